"""Transitional: ``virtual_geotiff.tiff.headers`` is the home of header reading; removed once the cube package lands."""

from .tiff.headers import DEFAULT_CONCURRENCY, FailedSource, Progress, check_concurrency, read_headers  # noqa: F401
