"""STAC input and band cubes on local files: every kind of bad item reported per item, appends, atomicity.

Values are compared with rasterio; the archive is ``testing.sentinel2`` (2 tiles in two UTM zones x 3
dates, 4 bands at 10 m, B11 and SCL at 20 m).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

ic = pytest.importorskip("icechunk")
rasterio = pytest.importorskip("rasterio")
pystac = pytest.importorskip("pystac")

from tests.support.helpers import make_registry  # noqa: E402
from virtual_geotiff import icechunk as vic  # noqa: E402
from virtual_geotiff.bands import BandFile, open_virtual_bands  # noqa: E402
from virtual_geotiff.errors import FailedSourcesError, IncompatibleSourcesError  # noqa: E402
from virtual_geotiff.icechunk import publish_bands  # noqa: E402
from virtual_geotiff.stac import open_stac_cube  # noqa: E402
from virtual_geotiff.testing.sentinel2 import make_archive  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Numcodecs codecs are not in the Zarr version 3")
GROUPS = ["EPSG_32631/10m", "EPSG_32631/20m", "EPSG_32632/10m", "EPSG_32632/20m"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return make_archive(tmp_path_factory.mktemp("s2"))


@pytest.fixture
def archive(pristine, tmp_path):
    """A private copy (tests edit item files)."""
    root = tmp_path / "archive"
    shutil.copytree(pristine.root, root)
    return root


def item_path(root: Path, item_id: str) -> Path:
    return root / "sentinel-2-l2a-mini" / item_id / f"{item_id}.json"


def edit_item(root: Path, item_id: str, change) -> None:
    path = item_path(root, item_id)
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def read_group(repo, group: str):
    import xarray as xr

    store = repo.readonly_session(branch="main").store
    return xr.open_zarr(store, group=group, zarr_format=3, consolidated=False, mask_and_scale=False)


def test_catalog_items_file_and_pystac_give_the_same_cube(pristine):
    from_catalog = open_stac_cube(str(pristine.catalog), assets=["B02", "SCL"])
    from_file = open_stac_cube(str(pristine.items_json), assets=["B02", "SCL"])
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore

    items = pystac.ItemCollection(pystac.Catalog.from_file(str(pristine.catalog)).get_items(recursive=True))
    from_pystac = open_stac_cube(items, ObjectStoreRegistry({f"file://{pristine.root}": LocalStore()}),
                                 assets=["B02", "SCL"])
    for cube in (from_catalog, from_file, from_pystac):
        assert sorted(cube.groups) == GROUPS and cube.failed == {}
        assert list(cube.groups["EPSG_32631/10m"].data_vars) == ["B02"]
        assert list(cube.groups["EPSG_32632/20m"].data_vars) == ["SCL"]
        np.testing.assert_array_equal(cube.groups["EPSG_32631/10m"].time.values,
                                      from_catalog.groups["EPSG_32631/10m"].time.values)
    scl = from_catalog.groups["EPSG_32631/20m"]["SCL"]
    assert scl.attrs.get("_FillValue", scl.encoding.get("_FillValue")) == 0 or scl.data.metadata.fill_value == 0


def test_bad_items_are_each_reported_with_their_reason(archive):
    edit_item(archive, "S2B_31UGS_20240601", lambda d: d["assets"].pop("B03"))
    edit_item(archive, "S2B_31UGS_20240606", lambda d: d["assets"]["B02"].update(href="../../../../etc/B02.tif"))
    edit_item(archive, "S2B_32ULB_20240601", lambda d: d["assets"]["B04"].update({"proj:code": "EPSG:32633"}))
    edit_item(archive, "S2B_32ULB_20240606",
              lambda d: d["assets"]["B08"].update({"proj:transform": [10, 0, 300010, 0, -10, 5700000]}))
    edit_item(archive, "S2B_32ULB_20240611", lambda d: d["assets"]["B02"].update(href="./missing.tif"))
    # a second item claiming tile 31UGS on 2024-06-11 (same files, same time)
    dup = json.loads(item_path(archive, "S2B_31UGS_20240611").read_text())
    dup["id"] = "S2A_31UGS_20240611"
    dup_dir = archive / "sentinel-2-l2a-mini" / "S2A_31UGS_20240611"
    dup_dir.mkdir()
    for asset in dup["assets"].values():
        asset["href"] = "../S2B_31UGS_20240611/" + asset["href"].lstrip("./")
    (dup_dir / "S2A_31UGS_20240611.json").write_text(json.dumps(dup))
    collection = archive / "sentinel-2-l2a-mini" / "collection.json"
    doc = json.loads(collection.read_text())
    doc["links"].append({"rel": "item", "href": "./S2A_31UGS_20240611/S2A_31UGS_20240611.json"})
    collection.write_text(json.dumps(doc))

    assets = ["B02", "B03", "B04", "B08", "SCL"]
    with pytest.raises(FailedSourcesError) as info:
        open_stac_cube(str(archive / "catalog.json"), assets=assets)
    failed = info.value.failed
    assert sorted(failed) == ["S2A_31UGS_20240611", "S2B_31UGS_20240601", "S2B_31UGS_20240606",
                              "S2B_32ULB_20240601", "S2B_32ULB_20240606", "S2B_32ULB_20240611"]
    assert "asset(s) B03 missing" in failed["S2B_31UGS_20240601"]
    assert "outside" in failed["S2B_31UGS_20240606"] or "climbs above" in failed["S2B_31UGS_20240606"]
    assert "EPSG:32632 in the header, EPSG:32633 declared" in failed["S2B_32ULB_20240601"]
    assert "transform" in failed["S2B_32ULB_20240606"]
    assert "missing.tif" in failed["S2B_32ULB_20240611"]
    assert "same tile and time as item S2B_31UGS_20240611" in failed["S2A_31UGS_20240611"]

    cube = open_stac_cube(str(archive / "catalog.json"), assets=assets, on_error="skip")
    assert cube.failed.keys() == failed.keys()
    assert cube.groups["EPSG_32631/10m"].sizes["time"] == 1  # only 2024-06-11 is left for 31UGS
    assert cube.groups["EPSG_32632/10m"].sizes["time"] == 0 if "EPSG_32632/10m" in cube.groups else True
    assert not any(u for u in cube.sources if "S2B_32ULB" in u)


def test_single_crs_lists_every_item_and_its_crs(pristine):
    with pytest.raises(IncompatibleSourcesError) as info:
        open_stac_cube(str(pristine.catalog), assets=["B02"], single_crs=True)
    text = str(info.value)
    assert "S2B_31UGS_20240601: CRS EPSG:32631" in text and "S2B_32ULB_20240611: CRS EPSG:32632" in text
    assert len(info.value.problems) == 6


def test_bands_missing_a_date_share_the_time_axis_and_read_as_fill(pristine):
    files = []
    for (tile, day, band), path in pristine.files.items():
        if tile != "31UGS" or band not in ("B02", "B03"):
            continue
        if band == "B03" and day == pristine.dates[1]:
            continue
        files.append(BandFile(band, str(path), np.datetime64(f"{day[:4]}-{day[4:6]}-{day[6:]}")))

    cube = open_virtual_bands(files, make_registry())
    ds = cube.groups["EPSG_32631/10m"]
    assert ds.B02.shape == ds.B03.shape == (3, 128, 128)
    assert (ds.B03.data.manifest._paths[1] == "").all() and (ds.B03.data.manifest._paths[0] != "").all()


def test_publish_then_append_new_items(pristine, tmp_path):
    items = sorted(pystac.Catalog.from_file(str(pristine.catalog)).get_items(recursive=True), key=lambda i: i.id)
    first = [i for i in items if not i.id.endswith(pristine.dates[-1])]
    last = [i for i in items if i.id.endswith(pristine.dates[-1])]
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore

    registry = ObjectStoreRegistry({f"file://{pristine.root}": LocalStore()})
    cube = open_stac_cube(first, registry)
    repo = vic.create_repository(ic.local_filesystem_storage(str(tmp_path / "repo")), cube.sources,
                                 registry=registry)
    assert publish_bands(cube, repo, registry=registry).groups == dict.fromkeys(GROUPS, "published")
    assert read_group(repo, "EPSG_32631/10m").sizes["time"] == 2

    more = open_stac_cube(last, registry)
    result = publish_bands(more, repo, append=True, registry=registry)
    assert result.groups == dict.fromkeys(GROUPS, "appended")
    for group in GROUPS:
        ds = read_group(repo, group)
        assert ds.sizes["time"] == 3
        assert ds["eo:cloud_cover"].shape == (3,)
        assert set(ds.data_vars) <= {"B02", "B03", "B04", "B08", "B11", "SCL"}  # coordinates stay coordinates
    ds = read_group(repo, "EPSG_32632/20m")
    for t, day in enumerate(pristine.dates):
        with rasterio.open(pristine.files[("32ULB", day, "SCL")]) as src:
            np.testing.assert_array_equal(ds.SCL.values[t], src.read(1))


def test_a_failing_group_commits_nothing(pristine, tmp_path):
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore

    registry = ObjectStoreRegistry({f"file://{pristine.root}": LocalStore()})
    cube = open_stac_cube(str(pristine.catalog), registry)
    # containers for the zone 31 items only: the zone 31 groups are written, then zone 32's fails
    config = ic.RepositoryConfig.default()
    for folder in sorted({u.rsplit("/", 1)[0] for u in cube.sources if "31UGS" in u}):
        config.set_virtual_chunk_container(ic.VirtualChunkContainer(
            folder + "/", ic.local_filesystem_store(folder[len("file://"):])))
    repo = vic.create_repository(ic.local_filesystem_storage(str(tmp_path / "repo")), [], config=config)
    before = [s.id for s in repo.ancestry(branch="main")]
    with pytest.raises(Exception, match="outside every virtual chunk container"):
        publish_bands(cube, repo, registry=registry)
    assert [s.id for s in repo.ancestry(branch="main")] == before

    with pytest.raises(FailedSourcesError) as info:  # skipping every item leaves nothing to build
        open_stac_cube(str(pristine.catalog), registry, assets=["B02", "B05"], on_error="skip")
    assert len(info.value.failed) == 6
    assert all(r.startswith("asset(s) B05 missing") for r in info.value.failed.values())


def test_tiles_of_one_zone_stitch_when_times_are_truncated_to_the_day(tmp_path):
    from virtual_geotiff.testing.sentinel2 import tile_row

    archive = make_archive(tmp_path, tiles=tile_row(2), dates=2, bands_20m=())
    apart = open_stac_cube(str(archive.catalog), assets=["B03"])
    assert apart.groups["EPSG_32631/10m"].sizes == {"time": 4, "y": 128, "x": 256}  # seconds apart: 4 steps
    cube = open_stac_cube(str(archive.catalog), assets=["B03"], time_resolution="D")
    ds = cube.groups["EPSG_32631/10m"]
    assert ds.sizes == {"time": 2, "y": 128, "x": 256}
    assert "eo:cloud_cover" not in ds.coords and list(ds.platform.values) == ["sentinel-2b"] * 2  # tiles disagree
    repo = vic.create_repository(ic.local_filesystem_storage(str(tmp_path / "repo")), cube.sources)
    publish_bands(cube, repo)
    got = read_group(repo, "EPSG_32631/10m").B03.values
    for t, day in enumerate(archive.dates):
        for i, tile in enumerate(archive.tiles):
            with rasterio.open(archive.files[(tile, day, "B03")]) as src:
                np.testing.assert_array_equal(got[t, :, i * 128:(i + 1) * 128], src.read(1))


def test_catalog_over_http_and_absolute_hrefs_outside_the_registry(pristine, tmp_path):
    from virtual_geotiff.testing import RangeHTTPServer

    with RangeHTTPServer(pristine.root) as server:
        cube = open_stac_cube(server.url_for("catalog.json"), server.registry(), assets=["B08"])
        assert sorted(cube.groups) == ["EPSG_32631/10m", "EPSG_32632/10m"] and cube.failed == {}
        assert all(u.startswith(server.url + "/sentinel-2-l2a-mini/") for u in cube.sources)
        # an item file naming an absolute href on another host: refused for that item only
        doc = json.loads(pristine.items_json.read_text())
        doc["features"][0]["assets"]["B08"]["href"] = "http://elsewhere.invalid/B08.tif"
        doc["features"][1]["assets"]["B08"]["href"] = server.url + "/sentinel-2-l2a-mini/../../secret.tif"
        (pristine.root / "edited-items.json").write_text(json.dumps(doc))
        try:
            cube = open_stac_cube(server.url_for("edited-items.json"), server.registry(), assets=["B08"],
                                  on_error="skip")
        finally:
            (pristine.root / "edited-items.json").unlink()
    first, second = doc["features"][0]["id"], doc["features"][1]["id"]
    assert set(cube.failed) == {first, second}
    assert "outside the registered prefixes" in cube.failed[first]
    assert "'..'" in cube.failed[second]


def test_scanning_on_an_executor_gives_the_same_cube(pristine):
    from concurrent.futures import ThreadPoolExecutor

    local = open_stac_cube(str(pristine.catalog))
    with ThreadPoolExecutor(2) as executor:
        remote = open_stac_cube(str(pristine.catalog), executor=executor)
    assert sorted(remote.groups) == sorted(local.groups)
    for path, ds in local.groups.items():
        other = remote.groups[path]
        assert list(other.data_vars) == list(ds.data_vars)
        assert other.spatial_ref.attrs == ds.spatial_ref.attrs and (other.x.values == ds.x.values).all()
        for name in ds.data_vars:
            assert (other[name].data.manifest._paths == ds[name].data.manifest._paths).all()
            assert (other[name].data.manifest._offsets == ds[name].data.manifest._offsets).all()
