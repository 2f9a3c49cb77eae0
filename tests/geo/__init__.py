"""Tests of geo (see tests/README.md)."""
