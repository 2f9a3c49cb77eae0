"""Make ``tests/helpers.py`` importable as ``helpers`` under any pytest import mode."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


# -- real local servers (virtual_geotiff.testing) ---------------------------------------------------------
import pytest  # noqa: E402


@pytest.fixture
def http_server(tmp_path):
    """A ``RangeHTTPServer`` serving ``tmp_path`` (write files there; ``http_server.url_for(name)``).

    Function-scoped (starting one takes ~10 ms) so fault rules and request records never leak between tests.
    """
    from virtual_geotiff.testing import RangeHTTPServer

    with RangeHTTPServer(tmp_path) as server:
        yield server


@pytest.fixture(scope="session")
def s3_server():
    """moto S3 on 127.0.0.1 for the whole session; make a fresh bucket per test with ``make_bucket()``."""
    pytest.importorskip("moto.server")
    from virtual_geotiff.testing import S3Server

    with S3Server() as server:
        yield server
