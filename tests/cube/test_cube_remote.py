"""``open_virtual_cube`` over real servers: moto S3 (``s3://``) and the HTTP range server (``http://``)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.cube import RES, TILE, X0, Y0, rasterio_mosaic, read_cube, write_grid
from virtual_geotiff.cube import open_virtual_cube

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
DATES = ("20240101", "20240102")


def _check(cube, paths, registry):
    got = read_cube(cube.dataset, registry=registry)
    assert got.shape == (len(DATES), 2 * TILE, 2 * TILE)
    for t, stamp in enumerate(DATES):
        files = [p for p in paths if stamp in p.name]
        np.testing.assert_array_equal(got[t], rasterio_mosaic(files, got.shape[1:], (X0, RES, 0.0, Y0, 0.0, -RES)))


def test_http_cube_one_request_per_header(tmp_path, http_server):
    paths = write_grid(tmp_path, 2, 2, DATES)
    urls = [http_server.url_for(p) for p in paths]
    registry = http_server.registry()
    cube = open_virtual_cube(urls, registry, stack_values=r"_(\d{8})_", stack_format="%Y%m%d", concurrency=4)
    assert http_server.request_count == len(urls)  # one GET per header, no HEAD
    assert set(cube.sources) == set(urls)
    assert all(s.etag and s.last_modified and s.size for s in cube.sources.values())
    _check(cube, paths, registry)


def test_s3_cube_and_skipped_missing_object(tmp_path, s3_server):
    bucket = s3_server.make_bucket()
    paths = write_grid(tmp_path, 2, 2, DATES)
    urls = s3_server.upload_dir(bucket, tmp_path, prefix="archive")
    registry = s3_server.registry(bucket)
    missing = f"s3://{bucket}/archive/scene_20240103_r0_c0.tif"
    cube = open_virtual_cube([*urls, missing], registry, stack_values=r"_(\d{8})_", stack_format="%Y%m%d",
                             on_error="skip")
    assert list(cube.failed) == [missing] and "does not exist" in cube.failed[missing]
    assert set(cube.sources) == set(urls)
    etags = {s3_server.client.head_object(Bucket=bucket, Key=u.split("/", 3)[3])["ETag"] for u in urls}
    assert {s.etag for s in cube.sources.values()} == etags
    _check(cube, paths, registry)
