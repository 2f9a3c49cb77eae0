"""Tests of tiff (see tests/README.md)."""
