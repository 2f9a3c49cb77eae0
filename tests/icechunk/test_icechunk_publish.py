"""Publishing virtual cubes to an on-disk Icechunk repository: checksums, drift, append, all-or-nothing.

Sources are small tiled GeoTIFFs written by rasterio at run time; every read goes through a fresh
read-only Icechunk session and is compared with rasterio's decode of the source file.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import obstore
import pytest
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry

from tests.support.helpers import make_registry
from virtual_geotiff import InvalidArgumentError, VirtualTIFF
from virtual_geotiff.sources import SourceStamp

ic = pytest.importorskip("icechunk")
virtualizarr = pytest.importorskip("virtualizarr")
rasterio = pytest.importorskip("rasterio")

from virtual_geotiff import icechunk as vic  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Numcodecs codecs are not in the Zarr version 3")

SIZE, TILE = 64, 32
DAYS = np.array(["2021-01-01", "2021-01-02", "2021-01-03", "2021-01-04", "2021-01-05"], dtype="datetime64[ns]")


def write_geotiff(path: Path, seed: int) -> np.ndarray:
    from rasterio.transform import from_origin

    data = np.random.default_rng(seed).integers(1, 60_000, (SIZE, SIZE), dtype=np.uint16)
    with rasterio.open(path, "w", driver="GTiff", width=SIZE, height=SIZE, count=1, dtype="uint16",
                       crs="EPSG:32633", transform=from_origin(500_000, 4_000_000, 10, 10), tiled=True,
                       blockxsize=TILE, blockysize=TILE, compress="DEFLATE") as dst:
        dst.write(data, 1)
    return data


def stamp(url: str, reg: ObjectStoreRegistry) -> SourceStamp:
    store, path = reg.resolve(url)
    meta = obstore.head(store, path)
    return SourceStamp(url, meta["e_tag"], meta["last_modified"], meta["size"])


def cube(urls: list[str], days: np.ndarray, reg: ObjectStoreRegistry) -> xr.Dataset:
    """Stand-in for the cube builder: one virtual dataset per file, stacked along ``time``."""
    parts = [virtualizarr.open_virtual_dataset(u, registry=reg, parser=VirtualTIFF(ifd=0)).expand_dims(time=[t])
             for u, t in zip(urls, days, strict=True)]
    return xr.concat(parts, dim="time")  # VirtualiZarr's defaults work (tests/parser/test_virtualizarr_api.py)


@pytest.fixture
def archive(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    arrays = {}
    for i in range(len(DAYS)):
        path = data_dir / f"scene_{i}.tif"
        arrays["file://" + str(path)] = write_geotiff(path, i)
    return data_dir, arrays


def read_back(repo_dir: Path, **version) -> xr.Dataset:
    repo = vic.open_repository(ic.local_filesystem_storage(str(repo_dir)))
    session = repo.readonly_session(**(version or {"branch": "main"}))
    return xr.open_zarr(session.store, zarr_format=3, consolidated=False, mask_and_scale=False)


def history(repo_dir: Path) -> list:
    return list(ic.Repository.open(ic.local_filesystem_storage(str(repo_dir))).ancestry(branch="main"))


def published(tmp_path, archive, n: int = 3):
    _data_dir, arrays = archive
    urls = list(arrays)[:n]
    reg = make_registry()
    sources = {u: stamp(u, reg) for u in urls}
    repo_dir = tmp_path / "repo"
    repo = vic.create_repository(ic.local_filesystem_storage(str(repo_dir)), sources)
    result = vic.publish(cube(urls, DAYS[:n], reg), repo, sources=sources)
    return repo, repo_dir, result, reg


def test_publish_reads_back_equal_to_rasterio(tmp_path, archive):
    data_dir, arrays = archive
    repo, repo_dir, result, _ = published(tmp_path, archive)
    assert list(repo.config.virtual_chunk_containers) == [f"file://{data_dir}/"]
    assert result.references == {"0": 3 * (SIZE // TILE) ** 2}
    assert result.files == 3
    assert result.message == ("virtual-geotiff: publish 3 file(s), 12 virtual reference(s) in 1 array(s), "
                              "time 2021-01-01..2021-01-03")
    assert history(repo_dir)[0].message == result.message
    assert history(repo_dir)[0].metadata["virtual_geotiff"]["files"] == 3

    ds = read_back(repo_dir)
    assert set(ds.data_vars) == {"0"}  # the _sources table is a subgroup: invisible to xr.open_zarr
    assert set(ds.coords) == {"time", "y", "x", "spatial_ref"}
    assert ds["0"].attrs["grid_mapping"] == "spatial_ref"
    assert "crs_wkt" in ds["spatial_ref"].attrs
    np.testing.assert_array_equal(ds["time"].values, DAYS[:3])
    for i, expected in enumerate(list(arrays.values())[:3]):
        np.testing.assert_array_equal(ds["0"].isel(time=i).values, expected)
    assert ds["x"].values[0] == 500_005.0 and ds["y"].values[0] == 3_999_995.0


def test_checksums_are_etags_without_quotes_for_local_files(tmp_path, archive):
    repo, _, _, reg = published(tmp_path, archive)
    stored = vic.read_sources(repo.readonly_session(branch="main"))
    assert len(stored) == 3
    for url, s in stored.items():
        assert s.etag == stamp(url, reg).etag.strip('"') and '"' not in s.etag
        assert s.size == os.path.getsize(url.removeprefix("file://"))


def test_drift_fails_the_read_naming_the_file_and_verify_lists_exactly_it(tmp_path, archive):
    _data_dir, arrays = archive
    repo, repo_dir, _, reg = published(tmp_path, archive)
    assert vic.verify(repo, registry=reg).ok
    changed = list(arrays)[1]
    write_geotiff(Path(changed.removeprefix("file://")), seed=98)  # same size and layout, maybe the same second
    same_second = vic.verify(repo, registry=reg)  # verify compares the full ETag: sub-second rewrites too
    assert [(d.url, d.reason) for d in same_second.drifted] == [(changed, "etag changed")]

    # Icechunk checks local files by last-modified, in whole seconds: a rewrite in a later second fails the read
    time.sleep(1.1)
    write_geotiff(Path(changed.removeprefix("file://")), seed=99)

    ds = read_back(repo_dir)
    np.testing.assert_array_equal(ds["0"].isel(time=0).values, next(iter(arrays.values())))
    with pytest.raises(ic.IcechunkError, match=r"checksum of the object owning the virtual chunk has changed") as err:
        ds["0"].isel(time=1).values  # noqa: B018
    assert changed in str(err.value)

    report = vic.verify(repo, registry=reg)
    assert report.checked == 3
    assert report.urls == [changed]
    assert report.drifted[0].reason == "etag changed"
    assert changed in str(report)

    os.remove(list(arrays)[2].removeprefix("file://"))
    report = vic.verify(repo, registry=reg, concurrency=1)
    assert [(d.url, d.reason) for d in report.drifted] == [(changed, "etag changed"), (list(arrays)[2], "missing")]


def test_last_modified_checksum_when_the_store_gives_no_etag(tmp_path, archive):
    _data_dir, arrays = archive
    urls = list(arrays)[:2]
    reg = make_registry()
    sources = {u: SourceStamp(u, None, stamp(u, reg).last_modified, None) for u in urls}
    repo_dir = tmp_path / "repo"
    repo = vic.create_repository(ic.local_filesystem_storage(str(repo_dir)), sources)
    vic.publish(cube(urls, DAYS[:2], reg), repo, sources=sources)
    stored = vic.read_sources(repo.readonly_session(branch="main"))
    assert all(s.etag is None and s.last_modified.microsecond == 0 for s in stored.values())
    np.testing.assert_array_equal(read_back(repo_dir)["0"].isel(time=1).values, arrays[urls[1]])

    time.sleep(1.1)  # last-modified has whole-second resolution
    write_geotiff(Path(urls[0].removeprefix("file://")), seed=7)
    with pytest.raises(ic.IcechunkError, match="checksum"):
        read_back(repo_dir)["0"].isel(time=0).values  # noqa: B018
    assert vic.verify(repo, registry=reg).urls == [urls[0]]


def test_append_adds_steps_in_one_commit_and_old_snapshots_read_as_before(tmp_path, archive):
    _data_dir, arrays = archive
    repo, repo_dir, first, reg = published(tmp_path, archive, n=3)
    urls = list(arrays)
    new = urls[3:]
    sources = {u: stamp(u, reg) for u in new}
    result = vic.append(cube(new, DAYS[3:], reg), repo, sources=sources)
    assert result.references == {"0": 2 * (SIZE // TILE) ** 2}
    assert result.message == ("virtual-geotiff: append 2 file(s), 8 virtual reference(s) in 1 array(s), "
                              "time 2021-01-04..2021-01-05")
    log = history(repo_dir)
    assert [s.message for s in log[:2]] == [result.message, first.message]
    assert log[0].metadata["virtual_geotiff"]["action"] == "append"

    ds = read_back(repo_dir)
    np.testing.assert_array_equal(ds["time"].values, DAYS)
    for i, expected in enumerate(arrays.values()):
        np.testing.assert_array_equal(ds["0"].isel(time=i).values, expected)
    assert ds["0"].attrs["grid_mapping"] == "spatial_ref"
    assert "spatial_ref" in ds.coords and "spatial_ref" not in ds.data_vars  # group attributes survive the append
    assert ds.attrs == read_back(repo_dir, snapshot_id=first.snapshot_id).attrs
    assert len(vic.read_sources(repo.readonly_session(branch="main"))) == 5

    old = read_back(repo_dir, snapshot_id=first.snapshot_id)
    assert old.sizes["time"] == 3
    np.testing.assert_array_equal(old["0"].isel(time=2).values, arrays[urls[2]])
    assert vic.verify(repo, registry=reg).checked == 5
    assert vic.verify(repo, registry=reg, snapshot_id=first.snapshot_id).checked == 3

    # The only chunks the append touched are the new ones.
    diff = repo.diff(from_snapshot_id=first.snapshot_id, to_branch="main")
    assert sorted(map(tuple, diff.updated_chunks["/0"])) == [(t, y, x) for t in (3, 4) for y in (0, 1) for x in (0, 1)]

    with pytest.raises(InvalidArgumentError, match="already in the cube"):
        vic.append(cube(new[:1], DAYS[:1], reg), repo, sources=sources)
    assert len(history(repo_dir)) == len(log)


def test_icechunk_1_format_repository_opens_publishes_and_appends(tmp_path, archive):
    """A repository in the Icechunk 1.x format (``spec_version=1``, what readers still on Icechunk 1 can open):
    publish, reopen through ``open_repository``, append, verify; it stays in the 1.x format."""
    _data_dir, arrays = archive
    urls = list(arrays)
    reg = make_registry()
    sources = {u: stamp(u, reg) for u in urls}
    storage = ic.local_filesystem_storage(str(tmp_path / "v1"))
    repo = vic.create_repository(storage, sources, spec_version=1)
    assert int(repo.spec_version) == 1
    vic.publish(cube(urls[:3], DAYS[:3], reg), repo, sources=sources)

    reopened = vic.open_repository(storage, registry=reg)
    assert int(reopened.spec_version) == 1
    vic.append(cube(urls[3:], DAYS[3:], reg), reopened, sources=sources)
    ds = read_back(tmp_path / "v1")
    np.testing.assert_array_equal(ds["time"].values, DAYS)
    for i, expected in enumerate(arrays.values()):
        np.testing.assert_array_equal(ds["0"].isel(time=i).values, expected)
    assert vic.verify(reopened, registry=reg).ok
    assert int(vic.open_repository(storage).spec_version) == 1


def test_append_refuses_another_grid(tmp_path, archive):
    data_dir, _arrays = archive
    repo, repo_dir, _, reg = published(tmp_path, archive, n=2)
    other = data_dir / "small.tif"
    from rasterio.transform import from_origin

    with rasterio.open(other, "w", driver="GTiff", width=32, height=32, count=1, dtype="uint16", crs="EPSG:32633",
                       transform=from_origin(500_000, 4_000_000, 10, 10), tiled=True, blockxsize=16,
                       blockysize=16, compress="DEFLATE") as dst:
        dst.write(np.ones((32, 32), np.uint16), 1)
    url = "file://" + str(other)
    with pytest.raises(InvalidArgumentError, match="does not match the published array"):
        vic.append(cube([url], DAYS[4:], reg), repo, sources={url: stamp(url, reg)})
    assert len(history(repo_dir)) == 2


def test_nothing_is_committed_when_anything_fails(tmp_path, archive):
    _data_dir, arrays = archive
    urls = list(arrays)[:2]
    reg = make_registry()
    sources = {u: stamp(u, reg) for u in urls}
    repo_dir = tmp_path / "repo"
    repo = vic.create_repository(ic.local_filesystem_storage(str(repo_dir)), sources)
    ds = cube(urls, DAYS[:2], reg)

    with pytest.raises(InvalidArgumentError, match=r"no checksum to protect[\s\S]*scene_1.tif: no stamp"):
        vic.publish(ds, repo, sources={urls[0]: sources[urls[0]]})
    with pytest.raises(vic.PublishError, match=r"1 file\(s\) were skipped[\s\S]*broken.tif: truncated"):
        vic.publish(ds, repo, sources=sources, skipped={"file:///x/broken.tif": "truncated"})
    # A failure after references were written (an attribute that cannot be encoded) commits nothing either.
    bad = ds.assign_attrs(unencodable=object())
    with pytest.raises(Exception):  # noqa: B017 - whatever the encoder raises
        vic.publish(bad, repo, sources=sources)
    assert len(history(repo_dir)) == 1  # only the repository's initial snapshot
    assert not repo.writable_session("main").has_uncommitted_changes

    # Outside the containers: refused before writing, naming the files and the prefixes to add.
    other_repo = vic.create_repository(ic.local_filesystem_storage(str(tmp_path / "other")), ["file:///elsewhere/a.tif"])
    with pytest.raises(InvalidArgumentError, match=r"outside every virtual chunk container[\s\S]*scene_0.tif"):
        vic.publish(ds, other_repo, sources=sources)

    # Opt-in: keep the good files, record the skipped one in the message and the commit metadata.
    result = vic.publish(ds, repo, sources=sources, skipped={"file:///x/broken.tif": "truncated"},
                         allow_skipped=True)
    assert "skipped 1 file(s): file:///x/broken.tif" in result.message
    meta = history(repo_dir)[0].metadata["virtual_geotiff"]
    assert meta["skipped"] == [{"url": "file:///x/broken.tif", "reason": "truncated"}]


def test_publish_into_callers_session_does_not_commit(tmp_path, archive):
    _data_dir, arrays = archive
    urls = list(arrays)[:2]
    reg = make_registry()
    repo = vic.create_repository(ic.local_filesystem_storage(str(tmp_path / "repo")), urls)
    session = repo.writable_session("main")
    # sources=None: every source is HEADed through the registry instead.
    result = vic.publish(cube(urls, DAYS[:2], reg), session, registry=reg, group="cube")
    assert result.snapshot_id is None and result.references == {"cube/0": 8}
    assert session.has_uncommitted_changes
    session.commit(result.message)
    ds = xr.open_zarr(repo.readonly_session(branch="main").store, group="cube", zarr_format=3, consolidated=False,
                      mask_and_scale=False)
    np.testing.assert_array_equal(ds["0"].isel(time=1).values, arrays[urls[1]])
    assert vic.verify(repo, registry=reg, group="cube").checked == 2


def test_container_prefixes():
    assert vic.container_prefixes(["file:///a/b/c/1.tif", "file:///a/b/d/2.tif", "file:///z/3.tif"]) == [
        "file:///a/b/", "file:///z/"]
    assert vic.container_prefixes(["s3://bkt/x/y/1.tif", "s3://bkt/x/2.tif", "s3://other/1.tif"]) == [
        "s3://bkt/x/", "s3://other/"]
    assert vic.container_prefixes(["https://h/d/1.tif", "https://h/d/e/2.tif"]) == ["https://h/d/"]
    with pytest.raises(InvalidArgumentError, match="must be loaded"):
        vic.container_prefixes(["memory://virtual-geotiff/abc/x"])


def test_publish_a_built_cube_stitched_and_stacked_with_skipped_files(tmp_path):
    """The cube builder's result goes straight in: its sources and failed files are used."""
    from rasterio.transform import from_origin

    from virtual_geotiff.cube import open_virtual_cube

    data_dir = tmp_path / "tiles"
    data_dir.mkdir()
    expected = np.zeros((2, SIZE, 2 * SIZE), np.uint16)
    for day in range(2):
        for col in range(2):
            data = np.random.default_rng(10 * day + col).integers(1, 9_000, (SIZE, SIZE), dtype=np.uint16)
            expected[day, :, col * SIZE:(col + 1) * SIZE] = data
            with rasterio.open(data_dir / f"2021010{day + 1}_c{col}.tif", "w", driver="GTiff", width=SIZE,
                               height=SIZE, count=1, dtype="uint16", crs="EPSG:32633",
                               transform=from_origin(500_000 + col * SIZE * 10, 4_000_000, 10, 10), tiled=True,
                               blockxsize=TILE, blockysize=TILE, compress="DEFLATE") as dst:
                dst.write(data, 1)
    (data_dir / "20210103_c0.tif").write_bytes(b"II*\x00 not a tiff")
    urls = sorted(str(p) for p in data_dir.iterdir())
    reg = make_registry()
    built = open_virtual_cube(urls, reg, stack_values=r"(\d{8})_", stack_format="%Y%m%d", on_error="skip")
    assert len(built.failed) == 1 and len(built.sources) == 4

    repo_dir = tmp_path / "repo"
    repo = vic.create_repository(ic.local_filesystem_storage(str(repo_dir)), built.sources)
    with pytest.raises(vic.PublishError, match=r"skipped by the build[\s\S]*20210103_c0.tif"):
        vic.publish(built, repo)
    result = vic.publish(built, repo, allow_skipped=True)
    assert result.files == 4 and "skipped 1 file(s)" in result.message
    assert "time 2021-01-01..2021-01-02" in result.message
    ds = read_back(repo_dir)
    name = next(iter(ds.data_vars))
    np.testing.assert_array_equal(ds[name].values, expected)
    assert vic.verify(repo, registry=reg).checked == 4


def test_http_sources_on_the_servers_own_port_checksums_and_drift(tmp_path):
    """http:// sources on any port (Icechunk >= 2.1 keeps it): an HTTP container configured from the build's
    HTTPStore, every virtual chunk fetched with one range request, drift caught by the read (last-modified,
    sent as If-Unmodified-Since) and by ``verify`` (ETag, also within the same second)."""
    from virtual_geotiff.testing import RangeHTTPServer

    with RangeHTTPServer(tmp_path) as server:
        assert server.port not in (80, 443)
        reg = server.registry()
        arrays = {}
        for i in range(2):
            path = tmp_path / "www" / f"scene_{i}.tif"
            path.parent.mkdir(exist_ok=True)
            arrays[server.url_for(path)] = write_geotiff(path, i)
        urls = list(arrays)
        repo_dir = tmp_path / "repo"
        repo = vic.create_repository(ic.local_filesystem_storage(str(repo_dir)), urls, registry=reg)
        assert list(repo.config.virtual_chunk_containers) == [f"http://127.0.0.1:{server.port}/www/"]
        result = vic.publish(cube(urls, DAYS[:2], reg), repo, registry=reg)  # stamps by HEAD
        assert result.files == 2
        stored = vic.read_sources(repo.readonly_session(branch="main"))
        assert all(s.etag.startswith('"') for s in stored.values())  # verify compares the quoted form
        server.clear()
        ds = read_back(repo_dir)
        for i, expected in enumerate(arrays.values()):
            np.testing.assert_array_equal(ds["0"].isel(time=i).values, expected)
        gets = [r for r in server.records if r.method == "GET" and r.path.endswith(".tif")]
        assert len(gets) == 2 * (SIZE // TILE) ** 2  # one range request per virtual chunk

        write_geotiff(tmp_path / "www" / "scene_1.tif", seed=41)  # maybe within the publishing second
        assert [(d.url, d.reason) for d in vic.verify(repo, registry=reg).drifted] == [(urls[1], "etag changed")]
        time.sleep(1.1)
        write_geotiff(tmp_path / "www" / "scene_1.tif", seed=42)
        np.testing.assert_array_equal(read_back(repo_dir)["0"].isel(time=0).values, arrays[urls[0]])
        with pytest.raises(ic.IcechunkError, match="checksum") as err:
            read_back(repo_dir)["0"].isel(time=1).values  # noqa: B018
        assert urls[1] in str(err.value)
        assert vic.verify(repo, registry=reg).urls == [urls[1]]


def test_http_urls_keep_their_port():
    assert vic.icechunk_url("http://127.0.0.1:8123/a/x.tif") == "http://127.0.0.1:8123/a/x.tif"
    assert vic.icechunk_url("https://example.org:443/a/x.tif") == "https://example.org/a/x.tif"
    assert vic.container_prefixes(["http://h:80/d/1.tif", "http://h/d/2.tif"]) == ["http://h/d/"]
    assert vic.container_prefixes(["http://h:8080/d/1.tif", "http://h/d/2.tif"]) == ["http://h/d/", "http://h:8080/d/"]


@pytest.mark.parametrize("no_logs", [True, False])
def test_span_tracing_probe_sees_whether_icechunk_installed_its_subscriber(no_logs):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "ICECHUNK_NO_LOGS"}
    if no_logs:
        env["ICECHUNK_NO_LOGS"] = "1"
    code = "from virtual_geotiff.icechunk._tracing import span_tracing_active; print(span_tracing_active())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                         check=True).stdout.split()
    assert out == [str(not no_logs)]


def test_publish_and_append_store_the_same_with_and_without_span_tracing(tmp_path, archive, monkeypatch):
    """The writer sets references under placeholder metadata only while Icechunk's tracing is on; both
    paths must leave identical metadata and references."""
    from virtual_geotiff.icechunk import _publishing as publishing

    _data_dir, arrays = archive
    urls = list(arrays)
    reg = make_registry()
    sources = {u: stamp(u, reg) for u in urls}
    stores = {}
    for tracing in (True, False):
        monkeypatch.setattr(publishing, "span_tracing_active", lambda tracing=tracing: tracing)
        repo_dir = tmp_path / f"repo-{tracing}"
        repo = vic.create_repository(ic.local_filesystem_storage(str(repo_dir)), sources)
        vic.publish(cube(urls[:3], DAYS[:3], reg), repo, sources={u: sources[u] for u in urls[:3]})
        vic.append(cube(urls[3:], DAYS[3:], reg), repo, sources={u: sources[u] for u in urls[3:]})
        stores[tracing] = repo.readonly_session(branch="main").store
        ds = read_back(repo_dir)
        for i, expected in enumerate(arrays.values()):
            np.testing.assert_array_equal(ds["0"].isel(time=i).values, expected)

    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync

    def meta(store, key):
        return json.loads(sync(store.get(key, default_buffer_prototype())).to_bytes())

    for key in ("0/zarr.json", "spatial_ref/zarr.json", "zarr.json"):
        assert meta(stores[True], key) == meta(stores[False], key)
    assert meta(stores[False], "0/zarr.json")["dimension_names"] == ["time", "y", "x"]
    assert meta(stores[False], "0/zarr.json")["attributes"]["grid_mapping"] == "spatial_ref"


@pytest.mark.parametrize("tracing", [True, False])
def test_slow_logs_warning_only_while_icechunk_tracing_is_on(tmp_path, archive, monkeypatch, tracing):
    import warnings

    from virtual_geotiff.icechunk import _publishing as publishing

    monkeypatch.setattr(publishing, "span_tracing_active", lambda: tracing)
    monkeypatch.setattr(publishing, "SLOW_LOGS_WARNING_REFS", 1)
    monkeypatch.setattr(publishing, "_warned_logs", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        published(tmp_path, archive, n=1)
    slow = [w for w in caught if issubclass(w.category, vic.SlowIcechunkLogsWarning)]
    assert len(slow) == (1 if tracing else 0)
    if tracing:
        assert "ICECHUNK_NO_LOGS=1" in str(slow[0].message)


@pytest.mark.parametrize("request_size, expected_gets", [(None, 1), (16_384, 5)])
def test_one_range_request_per_virtual_chunk_unless_the_config_says_otherwise(tmp_path, request_size, expected_gets):
    """Icechunk splits a virtual chunk fetch above its ideal request size (4 KiB for local-filesystem
    repositories; at most 5 requests per object by default): repositories made by ``create_repository``
    fetch each chunk in one request."""
    from rasterio.transform import from_origin

    from virtual_geotiff.testing import RangeHTTPServer

    data = np.random.default_rng(3).random((128, 128))  # one 128 KiB uncompressed tile
    path = tmp_path / "www" / "big.tif"
    path.parent.mkdir()
    with rasterio.open(path, "w", driver="GTiff", width=128, height=128, count=1, dtype="float64", crs="EPSG:32633",
                       transform=from_origin(0, 128, 1, 1), tiled=True, blockxsize=128, blockysize=128) as dst:
        dst.write(data, 1)
    config = None
    if request_size is not None:
        config = ic.RepositoryConfig(storage=ic.StorageSettings(
            concurrency=ic.StorageConcurrencySettings(ideal_concurrent_request_size=request_size)))
    with RangeHTTPServer(tmp_path) as server:
        reg, url = server.registry(), server.url_for(path)
        repo = vic.create_repository(ic.local_filesystem_storage(str(tmp_path / "repo")), [url], registry=reg,
                                     config=config)
        vic.publish(virtualizarr.open_virtual_dataset(url, registry=reg, parser=VirtualTIFF(ifd=0)), repo,
                    registry=reg)
        server.clear()
        np.testing.assert_array_equal(read_back(tmp_path / "repo")["0"].values, data)
        assert len([r for r in server.records if r.method == "GET"]) == expected_gets


def test_checksum_is_the_one_icechunk_verifies_for_each_kind_of_source():
    """Object stores: the ETag (Icechunk's If-Match catches a rewrite within the same second; the S3 drift test
    in test_icechunk_s3.py reads through it). Local files and HTTP: last-modified rounded up to whole seconds
    (Icechunk sends a stored ETag unquoted, which they never match); the ETag is the fallback."""
    from datetime import UTC, datetime

    moment = datetime(2026, 12, 6, 8, 0, 0, 250_000, tzinfo=UTC)
    rounded = datetime(2026, 12, 6, 8, 0, 1, tzinfo=UTC)
    assert vic.checksum(SourceStamp("s3://b/k.tif", '"abc"', moment, 1)) == "abc"
    assert vic.checksum(SourceStamp("s3://b/k.tif", None, moment, 1)) == rounded
    for url in ("file:///d/k.tif", "http://127.0.0.1:8123/d/k.tif", "https://h/d/k.tif"):
        assert vic.checksum(SourceStamp(url, '"abc"', moment, 1)) == rounded
        assert vic.checksum(SourceStamp(url, '"abc"', None, 1)) == "abc"
    assert vic.checksum(SourceStamp("file:///d/k.tif")) is None


def test_verify_refuses_a_group_without_a_published_cube(tmp_path, archive):
    repo, _, _, reg = published(tmp_path, archive, n=1)
    assert vic.verify(repo, registry=reg).checked == 1
    with pytest.raises(InvalidArgumentError, match="no cube published by virtual-geotiff in group elsewhere"):
        vic.verify(repo, registry=reg, group="elsewhere")
