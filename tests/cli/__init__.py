"""Tests of cli (see tests/README.md)."""
