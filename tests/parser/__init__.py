"""Tests of parser (see tests/README.md)."""
