"""Network faults against the real local servers: injected 500/503, slow answers, dropped connections and
truncated bodies.

Two retry layers are proven separately. Header reads retry transient errors themselves (``tiff.source``:
exponential backoff, then a ``SourceReadError`` naming the URL, the byte range and the attempt count); the
stores here are built with obstore's own retries off (``retries=0``) so only that layer acts. Chunk reads
go through the registered obstore store, whose built-in retry absorbs the same faults (and, turned off,
lets them fail). A multi-file build with one failing source commits nothing to Icechunk.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import tifffile
import xarray as xr

from virtual_geotiff import SourceReadError, VirtualTIFF
from virtual_geotiff.testing import Fault, RangeHTTPServer
from virtual_geotiff.tiff import source

pytestmark = [pytest.mark.timeout(120), pytest.mark.filterwarnings("ignore:Numcodecs codecs")]

#: Each fault kind, and the client timeout a store needs so that a slow answer becomes an error.
KINDS = {
    "http-500": Fault("status", status=500),
    "http-503": Fault("status", status=503),
    "drop": Fault("drop"),
    "truncate": Fault("truncate"),
    "slow": Fault("slow", delay=1.5),
}
TIMEOUT = "0.5s"


def fault(kind: str, **kwargs) -> Fault:
    template = KINDS[kind]
    return Fault(template.kind, status=template.status, delay=template.delay, **kwargs)


@pytest.fixture
def tif(http_server):
    data = np.arange(48 * 40, dtype=np.uint16).reshape(48, 40) * 7
    tifffile.imwrite(http_server.root / "a.tif", data, tile=(16, 16), compression="zlib")
    return "a.tif", data


@pytest.fixture
def fast_backoff(monkeypatch):
    monkeypatch.setattr(source, "DEFAULT_BACKOFF", 0.01)


def open_virtual(server: RangeHTTPServer, name: str, **store_kwargs) -> xr.Dataset:
    store = VirtualTIFF()(url=server.url_for(name), registry=server.registry(**store_kwargs))
    return xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_header_reads_retry_transient_faults(http_server, tif, fast_backoff, kind):
    name, data = tif
    rule = fault(kind, first=2)
    http_server.inject(rule)
    ds = open_virtual(http_server, name, retries=0, timeout=TIMEOUT)  # obstore's own retry off
    assert rule.injected == 2
    np.testing.assert_array_equal(ds["0"].values, data)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_header_reads_give_a_clear_error_after_the_retries(http_server, tif, fast_backoff, kind):
    name, _ = tif
    rule = fault(kind)
    http_server.inject(rule)
    url = http_server.url_for(name)
    with pytest.raises(SourceReadError) as info:
        open_virtual(http_server, name, retries=0, timeout=TIMEOUT)
    message = str(info.value)
    assert url in message and "failed after 4 attempts" in message and "bytes 0-" in message
    assert rule.injected == 4


def test_retries_back_off_exponentially(http_server, tif):
    name, data = tif
    http_server.inject(Fault("status", status=503, first=3))
    t0 = time.perf_counter()
    ds = open_virtual(http_server, name, retries=0)
    elapsed = time.perf_counter() - t0
    assert elapsed >= 0.2 + 0.4 + 0.8  # DEFAULT_BACKOFF doubled after each attempt
    np.testing.assert_array_equal(ds["0"].values, data)


def test_permanent_errors_are_not_retried(http_server, tif, fast_backoff):
    name, _ = tif
    http_server.inject(Fault("status", status=403))
    with pytest.raises(SourceReadError, match=r"after 1 attempt\(s\) \(not retried"):
        open_virtual(http_server, name, retries=0)
    assert len(http_server.records) == 1


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_chunk_reads_are_retried_by_the_store(http_server, tif, kind):
    """Faults hit the chunk GETs after the build: obstore's retry (on by default) absorbs them; without it
    the read fails rather than returning anything."""
    name, data = tif
    ds = open_virtual(http_server, name, timeout=TIMEOUT)  # obstore's default retry config
    http_server.clear()
    rule = fault(kind, first=3)
    http_server.inject(rule)
    np.testing.assert_array_equal(ds["0"].values, data)
    assert rule.injected == 3

    no_retry = open_virtual(http_server, name, retries=0, timeout=TIMEOUT)
    http_server.clear()
    http_server.inject(fault(kind, first=1))
    with pytest.raises(Exception):  # noqa: B017 - zarr surfaces obstore's error type as it is
        no_retry["0"].values  # noqa: B018


def test_s3_faults_through_a_proxy(s3_server, tmp_path, fast_backoff):
    """moto S3 behind the fault-injecting proxy: the same retry and error behaviour as over plain HTTP."""
    data = np.arange(32 * 32, dtype=np.uint8).reshape(32, 32)
    tifffile.imwrite(tmp_path / "s.tif", data, tile=(16, 16), compression="zlib")
    bucket = s3_server.make_bucket()
    url = s3_server.upload(bucket, "d/s.tif", tmp_path / "s.tif")
    with RangeHTTPServer(upstream=s3_server.endpoint) as proxy:
        store = s3_server.store(bucket, endpoint=proxy.url, retries=0)
        from obspec_utils.registry import ObjectStoreRegistry

        registry = ObjectStoreRegistry({f"s3://{bucket}": store})
        for kind in sorted(KINDS):
            proxy.clear()
            rule = fault(kind, first=2)
            proxy.inject(rule)
            if kind == "slow":
                slow_store = s3_server.store(bucket, endpoint=proxy.url, retries=0, client_options={
                    "allow_http": True, "timeout": TIMEOUT})
                reg = ObjectStoreRegistry({f"s3://{bucket}": slow_store})
            else:
                reg = registry
            ds = xr.open_zarr(VirtualTIFF()(url=url, registry=reg), zarr_format=3, consolidated=False)
            np.testing.assert_array_equal(ds["0"].values, data)
            assert rule.injected == 2, kind
        proxy.clear()
        proxy.inject(Fault("status", status=503))
        with pytest.raises(SourceReadError, match=rf"{url} failed after 4 attempts"):
            VirtualTIFF()(url=url, registry=registry)


# -- multi-file builds: nothing half-committed --------------------------------------------------------------------
ic = pytest.importorskip("icechunk")


def _write_scenes(root, n: int) -> dict[str, np.ndarray]:
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import from_origin

    arrays = {}
    for i in range(n):
        data = np.random.default_rng(i).integers(1, 60_000, (32, 32), dtype=np.uint16)
        with rasterio.open(root / f"scene_{i}.tif", "w", driver="GTiff", width=32, height=32, count=1,
                           dtype="uint16", crs="EPSG:32633", transform=from_origin(500_000, 4_000_000, 10, 10),
                           tiled=True, blockxsize=16, blockysize=16, compress="DEFLATE") as dst:
            dst.write(data, 1)
        arrays[f"scene_{i}.tif"] = data
    return arrays


def _history(repo) -> list:
    return list(repo.ancestry(branch="main"))


def test_failed_source_mid_build_commits_nothing(s3_server, tmp_path, fast_backoff):
    """Sources on moto S3 behind the fault proxy (Icechunk cannot reference http:// URLs with a port)."""
    from obspec_utils.registry import ObjectStoreRegistry

    from virtual_geotiff import icechunk as vic
    from virtual_geotiff.cube import open_virtual_cube
    from virtual_geotiff.errors import FailedSourcesError

    (tmp_path / "scenes").mkdir()
    arrays = _write_scenes(tmp_path / "scenes", 3)
    bucket = s3_server.make_bucket()
    urls = s3_server.upload_dir(bucket, tmp_path / "scenes", prefix="scenes")
    days = np.array(["2021-01-01", "2021-01-02", "2021-01-03"], dtype="datetime64[ns]")
    with RangeHTTPServer(upstream=s3_server.endpoint) as proxy:
        registry = ObjectStoreRegistry({f"s3://{bucket}": s3_server.store(bucket, endpoint=proxy.url, retries=0)})
        storage = ic.local_filesystem_storage(str(tmp_path / "repo"))
        repo = vic.create_repository(storage, urls, registry=registry)
        assert len(_history(repo)) == 1

        # 1. The middle file's header never arrives: the build names it, and nothing reaches the repository.
        proxy.inject(Fault("status", status=503, path="scene_1.tif"))
        with pytest.raises(FailedSourcesError, match=r"scene_1\.tif[\s\S]*failed after 4 attempts") as info:
            open_virtual_cube(urls, registry, stack_values=list(days), stitch=False)
        assert list(info.value.failed) == [urls[1]]
        cube = open_virtual_cube(urls, registry, stack_values=list(days), stitch=False, on_error="skip")
        assert list(cube.failed) == [urls[1]] and sorted(cube.sources) == [urls[0], urls[2]]
        with pytest.raises(vic.PublishError, match="skipped"):
            vic.publish(cube.dataset, repo, sources=cube.sources, skipped=cube.failed)
        assert len(_history(repo)) == 1 and not repo.writable_session("main").has_uncommitted_changes

        # 2. Every header read, then the source check of one file fails while publishing: still nothing.
        proxy.clear()
        cube = open_virtual_cube(urls, registry, stack_values=list(days), stitch=False)
        proxy.inject(Fault("status", status=503, path="scene_2.tif", methods=("HEAD",)))
        with pytest.raises(vic.PublishError, match=r"scene_2\.tif"):
            vic.publish(cube.dataset, repo, registry=registry)  # sources=None: every source is HEADed
        assert len(_history(repo)) == 1 and not repo.writable_session("main").has_uncommitted_changes

        # 3. Once the network is healthy, the same build publishes as one commit and reads back exactly.
        proxy.clear()
        vic.publish(cube.dataset, repo, sources=cube.sources)
        assert len(_history(repo)) == 2
        session = vic.open_repository(storage, registry=registry).readonly_session(branch="main")
        ds = xr.open_zarr(session.store, zarr_format=3, consolidated=False, mask_and_scale=False)
        for i, data in enumerate(arrays.values()):
            np.testing.assert_array_equal(ds["data"].isel(time=i).values, data)
