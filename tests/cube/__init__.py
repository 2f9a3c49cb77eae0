"""Tests of cube (see tests/README.md)."""
