"""Helpers shared by the test folders: TIFF cases, cube tile grids, Node and Chromium runners, repo paths."""
