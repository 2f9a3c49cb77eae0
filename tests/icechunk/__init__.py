"""Tests of icechunk (see tests/README.md)."""
