"""Test helpers shipped with the package (like ``zarr.testing``): real local servers to read TIFFs through.

``RangeHTTPServer`` serves a directory over HTTP with byte ranges, optional latency and injected faults;
``S3Server`` runs moto's S3 on 127.0.0.1. Both run in background threads, so a test can read through
obstore's ``HTTPStore`` / ``S3Store`` exactly as a user would. Heavy dependencies (aiohttp, moto, boto3)
are imported only when a server starts: importing this package costs nothing.
"""

from __future__ import annotations

from .servers import Fault, RangeHTTPServer, S3Server, free_port

__all__ = ["Fault", "RangeHTTPServer", "S3Server", "free_port"]
