"""Helpers shared by the test folders: TIFF cases and readers, case tables, TIFF byte patching, GeoKeys, cube tile
grids, the command as a subprocess, Node and Chromium runners, repo paths. A test module never imports another test
module: whatever two of them share lives here."""
