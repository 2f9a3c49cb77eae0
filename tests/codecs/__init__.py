"""Tests of codecs (see tests/README.md)."""
