"""Tests of project (see tests/README.md)."""
