"""Fixtures shared by several test folders: the real local servers of ``virtual_geotiff.testing``.

Helpers live in the ``tests.support`` package (``from tests.support.helpers import ...``): ``tests`` is a package,
so pytest puts the repository root on ``sys.path`` and no path editing is needed.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def http_server(tmp_path):
    """A ``RangeHTTPServer`` serving ``tmp_path`` (write files there; ``http_server.url_for(name)``).

    Function-scoped (starting one is cheap) so fault rules and request records never leak between tests.
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


@pytest.fixture
def registry():
    """A registry that serves ``file://`` URLs from the local disk: what a test reading files it wrote needs.

    A test module that needs another registry (in-memory stores, S3 prefixes) defines its own ``registry``.
    """
    from tests.support.helpers import make_registry

    return make_registry()
