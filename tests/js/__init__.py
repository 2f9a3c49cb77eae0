"""Tests of js (see tests/README.md)."""
