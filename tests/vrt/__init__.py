"""Tests of vrt (see tests/README.md)."""
