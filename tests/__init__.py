"""The test suite, one package per layer of the library (see tests/README.md)."""
