"""The local test servers behave like the real thing: byte ranges, ETags, 416, faults, and a VirtualTIFF read
through obstore's HTTPStore and S3Store decodes exactly what tifffile decodes from the local file."""

from __future__ import annotations

import http.client
import os
import time

import numpy as np
import obstore
import pytest
import xarray as xr

from tests.support.helpers import Case, assert_same, expected_array, write_case
from virtual_geotiff import VirtualTIFF
from virtual_geotiff.testing import Fault, RangeHTTPServer

DATA = bytes(range(256)) * 40  # 10240 bytes


def _raw_get(server: RangeHTTPServer, path: str, headers: dict[str, str] | None = None,
             method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request with the path sent as-is (no client-side normalisation of ``..``)."""
    conn = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


@pytest.fixture
def data_file(http_server):
    (http_server.root / "d").mkdir()
    (http_server.root / "d" / "a.bin").write_bytes(DATA)
    return "d/a.bin"


def test_http_ranges_through_obstore(http_server, data_file):
    store = http_server.store(retries=0)
    assert bytes(obstore.get_range(store, data_file, start=10, end=300)) == DATA[10:300]
    assert bytes(obstore.get_range(store, data_file, start=10000, length=1000)) == DATA[10000:]  # clipped
    ranges = obstore.get_ranges(store, data_file, starts=[0, 5000, 10239], ends=[1, 5100, 10240])
    assert [bytes(r) for r in ranges] == [DATA[0:1], DATA[5000:5100], DATA[10239:]]
    result = obstore.get(store, data_file, options={"range": (100, 200)})
    assert bytes(result.bytes()) == DATA[100:200]
    head = obstore.head(store, data_file)
    assert head["size"] == len(DATA) and head["e_tag"] == result.meta["e_tag"] and head["last_modified"]
    with pytest.raises(Exception, match="416"):
        obstore.get_range(store, data_file, start=len(DATA) + 5, end=len(DATA) + 10)


def test_http_raw_protocol(http_server, data_file):
    status, headers, body = _raw_get(http_server, f"/{data_file}", {"Range": "bytes=-16"})
    assert (status, body, headers["Content-Range"]) == (206, DATA[-16:], f"bytes 10224-10239/{len(DATA)}")
    status, headers, body = _raw_get(http_server, f"/{data_file}", {"Range": "bytes=10200-"})
    assert (status, body) == (206, DATA[10200:])
    status, headers, _ = _raw_get(http_server, f"/{data_file}", {"Range": f"bytes={len(DATA)}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(DATA)}"
    status, headers, body = _raw_get(http_server, f"/{data_file}", method="HEAD")
    assert status == 200 and body == b"" and headers["Content-Length"] == str(len(DATA))
    etag = headers["ETag"]
    assert _raw_get(http_server, f"/{data_file}", {"If-None-Match": etag})[0] == 304
    assert _raw_get(http_server, f"/{data_file}", {"If-Match": '"other"'})[0] == 412
    # the ETag follows the file: a rewrite (other size) gives a new one
    (http_server.root / data_file).write_bytes(DATA[:100])
    assert _raw_get(http_server, f"/{data_file}", method="HEAD")[1]["ETag"] != etag
    # never a file outside the served directory
    outside = http_server.root.parent / "secret.bin"
    outside.write_bytes(b"secret")
    for path in ("/../secret.bin", "/d/../../secret.bin", "/%2e%2e/secret.bin", "/d/..%2f..%2fsecret.bin"):
        assert _raw_get(http_server, path)[0] == 404, path
    os.symlink(outside, http_server.root / "link.bin")
    assert _raw_get(http_server, "/link.bin")[0] == 404
    assert _raw_get(http_server, "/d/missing.bin")[0] == 404
    assert _raw_get(http_server, "/d", method="GET")[0] == 404


def test_http_faults_and_latency(http_server, data_file):
    store = http_server.store(retries=0)
    http_server.inject(Fault("status", status=500, first=2))
    for _ in range(2):
        with pytest.raises(Exception, match="500"):
            obstore.get_range(store, data_file, start=0, end=10)
    assert bytes(obstore.get_range(store, data_file, start=0, end=10)) == DATA[:10]
    assert [r.status for r in http_server.records] == [500, 500, 206]

    http_server.clear()
    rule = Fault("status", fraction=0.5, seed=1)
    http_server.inject(rule)
    outcomes = []
    for _ in range(40):
        try:
            obstore.get_range(store, data_file, start=0, end=10)
            outcomes.append(True)
        except Exception:
            outcomes.append(False)
    assert rule.seen == 40 and rule.injected == outcomes.count(False) and 8 < rule.injected < 32

    for kind in ("drop", "truncate"):
        http_server.clear()
        http_server.inject(Fault(kind, first=1))
        with pytest.raises(Exception):  # noqa: B017 - obstore's error type for a cut connection is generic
            obstore.get_range(store, data_file, start=0, end=5000)
        assert bytes(obstore.get_range(store, data_file, start=0, end=5000)) == DATA[:5000]
        assert [r.fault for r in http_server.records] == [kind, None]

    http_server.clear()
    http_server.inject(Fault("slow", first=1, delay=0.3))
    t0 = time.perf_counter()
    assert bytes(obstore.get_range(store, data_file, start=0, end=10)) == DATA[:10]
    assert time.perf_counter() - t0 >= 0.3
    http_server.clear()
    http_server.latency = 0.05
    t0 = time.perf_counter()
    obstore.get_range(store, data_file, start=0, end=10)
    assert time.perf_counter() - t0 >= 0.05
    # faults can be limited to a path
    http_server.latency = 0.0
    http_server.inject(Fault("status", path="other.bin"))
    assert bytes(obstore.get_range(store, data_file, start=0, end=10)) == DATA[:10]


def test_s3_ranges_through_obstore(s3_server, tmp_path):
    bucket = s3_server.make_bucket()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.bin").write_bytes(DATA)
    (tmp_path / "b.bin").write_bytes(DATA[:10])
    urls = s3_server.upload_dir(bucket, tmp_path, prefix="pre")
    assert urls == [f"s3://{bucket}/pre/b.bin", f"s3://{bucket}/pre/sub/a.bin"]
    store = s3_server.store(bucket)
    assert bytes(obstore.get_range(store, "pre/sub/a.bin", start=10, end=300)) == DATA[10:300]
    result = obstore.get(store, "pre/sub/a.bin", options={"range": (100, 200)})
    assert bytes(result.bytes()) == DATA[100:200] and result.meta["e_tag"] and result.meta["size"] == len(DATA)
    assert bytes(obstore.get_range(s3_server.store(bucket, prefix="pre"), "b.bin", start=0, end=10)) == DATA[:10]


CASES = [Case("uint16", "zlib", "tiles"), Case("float32", "lzw", "strips-partial", predictor=3),
         Case("uint8", None, "strips", samples=3, planar="contig")]


def _open(url: str, registry) -> xr.Dataset:
    store = VirtualTIFF()(url=url, registry=registry)
    return xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_virtual_tiff_over_http(http_server, case):
    write_case(case, http_server.root / "x.tif")
    ds = _open(http_server.url_for("x.tif"), http_server.registry(retries=0))
    assert_same(ds["0"], expected_array(http_server.root / "x.tif"))
    assert all(r.status in (200, 206) for r in http_server.records)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_virtual_tiff_over_s3(s3_server, tmp_path, case):
    write_case(case, tmp_path / "x.tif")
    bucket = s3_server.make_bucket()
    url = s3_server.upload(bucket, "data/x.tif", tmp_path / "x.tif")
    ds = _open(url, s3_server.registry(bucket))
    assert_same(ds["0"], expected_array(tmp_path / "x.tif"))
    assert np.asarray(ds["0"]).shape[-2:] == (case.height, 53)
