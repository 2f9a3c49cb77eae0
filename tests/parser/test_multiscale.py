"""Overview pyramids, GDAL internal masks and ``.ovr`` sidecars, compared with rasterio's ``overview_level``.

Every file is written by rasterio (GDAL) at test time: COGs with internal masks and overviews
(``GDAL_TIFF_INTERNAL_MASK``), and external ``.ovr`` overviews (``TIFF_USE_OVR``). Each level of the virtual
multiscale store must have rasterio's shape, transform (within 1e-9), CRS and pixels, rioxarray's x/y,
and a ``mask`` equal to ``read_masks()``.
"""

from __future__ import annotations

import pickle
import struct
import warnings
from pathlib import Path

import numpy as np
import obstore
import pytest
import rasterio
import rioxarray
import tifffile
import xarray as xr
import zarr
from affine import Affine
from obspec_utils.registry import ObjectStoreRegistry
from rasterio.enums import Resampling
from rasterio.transform import from_origin

from tests.support.helpers import file_url, make_registry
from virtual_geotiff import InvalidArgumentError, Limits, TiffFormatError, VirtualTIFF
from virtual_geotiff._sync import run_sync
from virtual_geotiff.arrays.levels import read_header_with_sidecar, sidecar_url
from virtual_geotiff.multiscale import MULTISCALES_CONVENTION

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning"),
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
]

ATOL = 1e-9
HEIGHT, WIDTH = 300, 200  # factor 8 gives 38 x 25: a level whose size ratio is not the factor


def image(count: int = 1, dtype: str = "uint16") -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(1, 250, size=(count, HEIGHT, WIDTH)).astype(dtype)


def mask_pattern() -> np.ndarray:
    mask = np.full((HEIGHT, WIDTH), 255, np.uint8)
    mask[:50, :70] = 0
    mask[200:, 150:] = 0
    mask[120:123, :] = 0
    return mask


def write(path: Path, *, count: int = 1, dtype: str = "uint16", mask: bool = True, internal: tuple[int, ...] = (),
          external: tuple[int, ...] = (), nodata=None, crs="EPSG:32633", data=None, scale_offset=None,
          tags=None, **profile) -> np.ndarray:
    """A tiled GeoTIFF (internal mask, internal overviews ``internal``, ``.ovr`` overviews ``external``)."""
    data = image(count, dtype) if data is None else data
    kwargs = dict(driver="GTiff", width=WIDTH, height=HEIGHT, count=count, dtype=dtype, tiled=True, blockxsize=64,
                  blockysize=64, compress="deflate", nodata=nodata, transform=from_origin(500_000, 4_000_000, 10, 10))
    if crs:
        kwargs["crs"] = crs
    kwargs.update(profile)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "w", **kwargs) as dst:
            if tags:
                dst.update_tags(**tags)
            dst.write(data)
            if scale_offset:
                dst.scales, dst.offsets = (scale_offset[0],) * count, (scale_offset[1],) * count
            if mask:
                dst.write_mask(mask_pattern())
            if internal:
                dst.build_overviews(list(internal), Resampling.nearest)
        if external:
            # TIFF_USE_OVR: GDAL writes <file>.ovr instead of internal overviews
            with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True, TIFF_USE_OVR=True), rasterio.open(path, "r+") as dst:
                dst.build_overviews(list(external), Resampling.nearest)
    return data


def open_tree(path: Path, **kwargs) -> xr.DataTree:
    store = VirtualTIFF(ifd_layout="multiscale", **kwargs)(url=file_url(path), registry=make_registry())
    return xr.open_datatree(store, engine="zarr", zarr_format=3, consolidated=False)


def open_level(path: Path, overview_level: int, **kwargs) -> xr.Dataset:
    store = VirtualTIFF(overview_level=overview_level, **kwargs)(url=file_url(path), registry=make_registry())
    return xr.open_zarr(store, zarr_format=3, consolidated=False)


def rasterio_kwargs(level: int) -> dict:
    return {} if level == 0 else {"overview_level": level - 1}


def assert_level_matches_rasterio(ds: xr.Dataset, path: Path, level: int, *, masked: bool) -> None:
    """Shape, CRS, transform, x/y, pixels and mask of one level equal rasterio's/rioxarray's."""
    kwargs = rasterio_kwargs(level)
    with rasterio.open(path, **kwargs) as src:
        values = src.read()
        masks = src.read_masks(1)
        transform, crs, shape = src.transform, src.crs, src.shape
    ref = rioxarray.open_rasterio(path, **kwargs)
    data = ds["0"]
    assert data.shape[-2:] == shape
    np.testing.assert_array_equal(data.values, values[0] if data.ndim == 2 else values, strict=False)
    assert ds.rio.crs == crs
    np.testing.assert_allclose(tuple(ds.rio.transform())[:6], tuple(transform)[:6], rtol=0, atol=ATOL)
    np.testing.assert_allclose(ds.x.values, ref.x.values, rtol=0, atol=ATOL)
    np.testing.assert_allclose(ds.y.values, ref.y.values, rtol=0, atol=ATOL)
    assert data.attrs["grid_mapping"] == "spatial_ref"
    if masked:
        assert ds["mask"].dims == ("y", "x") and ds["mask"].dtype == np.uint8
        np.testing.assert_array_equal(ds["mask"].values, masks)
        assert set(np.unique(ds["mask"].values)) == {0, 255}
        assert ds["mask"].attrs["grid_mapping"] == "spatial_ref"
        assert ds["mask"].attrs["flag_values"] == [0, 255]
    else:
        assert "mask" not in ds


# ------------------------------------------------------------------------------------------------- internal


@pytest.mark.parametrize("count", [1, 3], ids=["grey", "rgb"])
def test_cog_levels_and_masks_match_rasterio(tmp_path, count):
    path = tmp_path / "cog.tif"
    write(path, count=count, dtype="uint8" if count == 3 else "uint16", internal=(2, 4, 8),
          **({"photometric": "RGB"} if count == 3 else {}))
    with rasterio.open(path) as src:
        assert src.overviews(1) == [2, 4, 8]
        assert src.mask_flag_enums[0] == [rasterio.enums.MaskFlags.per_dataset]
    tree = open_tree(path)
    assert list(tree.children) == ["0", "1", "2", "3"]
    for level, name in enumerate(tree.children):
        ds = tree[name].to_dataset()
        assert_level_matches_rasterio(ds, path, level, masked=True)
        assert ds["0"].dims == (("y", "x") if count == 1 else ("band", "y", "x"))
        info = ds.attrs["virtual_geotiff_level"]
        assert info["source"] == file_url(path) and info["overview_level"] == (level - 1 if level else None)
    # mask chunks follow the mask IFD's tiles, which GDAL makes like the image's
    store = VirtualTIFF(ifd_layout="multiscale")(url=file_url(path), registry=make_registry())
    group = zarr.open_group(store, mode="r", zarr_format=3)
    assert group["0/mask"].chunks == group["0/0"].chunks[-2:] == (64, 64)


def test_jpeg_cog_driver_with_mask_at_every_level(tmp_path):
    """What `gdal_translate -of COG -co COMPRESS=JPEG` makes of an RGB image with a mask: YCbCr JPEG levels
    (38 x 25 is 37 x 25 here: the COG driver rounds down) and a 1-bit deflate mask IFD per level."""
    import rasterio.shutil

    source = tmp_path / "src.tif"
    # grey content in RGB: GDAL's JPEG chroma upsampling can differ from libjpeg-turbo's on colour edges
    # (README, JPEG row; pixels there are checked against tifffile); this test is about levels and masks
    gradient = np.add.outer(np.arange(HEIGHT), np.arange(WIDTH)) % 256
    write(source, count=3, dtype="uint8", photometric="RGB", tiled=False, compress=None, blockxsize=None,
          blockysize=None, data=np.stack([gradient] * 3).astype("uint8"))
    path = tmp_path / "jpeg_cog.tif"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        rasterio.shutil.copy(source, path, driver="COG", compress="JPEG", blocksize=64,
                             overview_resampling="nearest")
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].photometric == tifffile.PHOTOMETRIC.YCBCR
        assert sum(page.tags["NewSubfileType"].value == 5 for page in tif.pages[1:]) == 3
    tree = open_tree(path)
    assert [tree[name]["0"].shape for name in tree.children] == [(3, 300, 200), (3, 150, 100), (3, 75, 50),
                                                                 (3, 37, 25)]
    for level, name in enumerate(tree.children):
        assert_level_matches_rasterio(tree[name].to_dataset(), path, level, masked=True)


@pytest.mark.parametrize("kwargs", [
    pytest.param({"crs": "EPSG:4326", "transform": from_origin(10, 50, 0.001, 0.001), "external": (2, 4)},
                 id="wgs84-ovr"),
    pytest.param({"crs": "+proj=lcc +lat_1=33 +lat_2=45 +lat_0=39 +lon_0=-96 +datum=WGS84 +units=m",
                  "internal": (2, 4)}, id="custom-lcc"),
    pytest.param({"tags": {"AREA_OR_POINT": "Point"}, "internal": (2, 4)}, id="pixel-is-point"),
    pytest.param({"transform": Affine(10, 2, 500_000, 1, -10, 4_000_000), "internal": (2,)}, id="rotated"),
])
def test_georeferencing_of_every_level(tmp_path, kwargs):
    path = tmp_path / "geo.tif"
    write(path, **kwargs)
    tree = open_tree(path)
    rotated = "transform" in kwargs and kwargs["transform"].b != 0
    for level, name in enumerate(tree.children):
        ds = tree[name].to_dataset()
        if rotated:  # transform kept, no 1-D x/y (rioxarray builds 2-D xc/yc)
            with rasterio.open(path, **rasterio_kwargs(level)) as src:
                np.testing.assert_allclose(tuple(ds.rio.transform())[:6], tuple(src.transform)[:6], rtol=0,
                                           atol=ATOL)
                np.testing.assert_array_equal(ds["mask"].values, src.read_masks(1))
            assert "x" not in ds and ds["0"].attrs["georef_status"] == "rotated"
        else:
            assert_level_matches_rasterio(ds, path, level, masked=level == 0 or "internal" in kwargs)


def test_multiscales_attribute(tmp_path):
    path = tmp_path / "cog.tif"
    write(path, internal=(2, 4, 8))
    tree = open_tree(path)
    attrs = tree.attrs
    assert MULTISCALES_CONVENTION in attrs["zarr_conventions"]
    assert {c["name"] for c in attrs["zarr_conventions"]} == {"multiscales", "proj:", "spatial"}
    assert attrs["proj:code"] == "EPSG:32633"
    layout = attrs["multiscales"]["layout"]
    assert [entry["asset"] for entry in layout] == ["0", "1", "2", "3"]
    assert "derived_from" not in layout[0]
    assert all(entry["derived_from"] == "0" for entry in layout[1:])
    assert [entry["transform"]["scale"] for entry in layout] == [
        [1.0, 1.0], [2.0, 2.0], [4.0, 4.0], [HEIGHT / 38, WIDTH / 25]]
    for level, entry in enumerate(layout):
        with rasterio.open(path, **rasterio_kwargs(level)) as src:
            assert entry["spatial:shape"] == list(src.shape)
            np.testing.assert_allclose(entry["spatial:transform"], tuple(src.transform)[:6], rtol=0, atol=ATOL)
        # every level's arrays carry their own GeoZarr spatial: block too
        assert tree[entry["asset"]]["0"].attrs["spatial:shape"] == entry["spatial:shape"]


def test_overview_level_option(tmp_path):
    path = tmp_path / "cog.tif"
    write(path, internal=(2, 4))
    for k in (0, 1):
        ds = open_level(path, k)
        assert sorted(ds.variables) == ["0", "mask", "spatial_ref", "x", "y"]
        assert_level_matches_rasterio(ds, path, k + 1, masked=True)
    with pytest.raises(TiffFormatError, match=r"overview_level=2 requested but .* has 2 overview\(s\)"):
        open_level(path, 2)


def test_nodata_and_scale_follow_the_dataset_at_every_level(tmp_path):
    """Nodata masks every level as rasterio's overview datasets do. Scale/offset apply at every level too:
    GDAL's overview datasets report scale 1 / offset 0 (so rioxarray's overview_level returns raw values),
    but an overview holds the same quantity as the full image, so the pyramid stays in one unit."""
    path = tmp_path / "nodata.tif"
    data = image(1, "float32")
    data[0, :40, :40] = -1.0
    write(path, dtype="float32", mask=False, internal=(2, 4), nodata=-1.0, data=data, scale_offset=(0.5, 3.0))
    tree = open_tree(path)
    for level, name in enumerate(tree.children):
        ds = tree[name].to_dataset()
        with rasterio.open(path, **rasterio_kwargs(level)) as src:
            raw = src.read(1)
            assert src.nodata == -1.0
        expected = np.where(raw == -1.0, np.nan, raw * 0.5 + 3.0)
        np.testing.assert_allclose(ds["0"].values, expected, rtol=1e-6, equal_nan=True)
        assert np.isnan(ds["0"].values).any()
        assert ds["0"].encoding["scale_factor"] == 0.5 and ds["0"].encoding["add_offset"] == 3.0
    layout = tree.attrs["multiscales"]["layout"]
    assert "resampling_method" not in layout[0]
    assert [entry["resampling_method"] for entry in layout[1:]] == ["nearest", "nearest"]


def test_plain_tiff_is_one_level_and_other_pages_are_not_levels(tmp_path):
    path = tmp_path / "pages.tif"
    data = np.arange(40 * 30, dtype="uint8").reshape(40, 30)
    with tifffile.TiffWriter(path) as tif:
        tif.write(data, tile=(16, 16))
        tif.write(data[:20, :15] + 1, tile=(16, 16))  # another page (NewSubfileType 0), not an overview
        tif.write(data[::2, ::2], tile=(16, 16), subfiletype=1)  # an overview
    tree = open_tree(path)
    assert list(tree.children) == ["0", "1"]
    np.testing.assert_array_equal(tree["0"]["0"].values, data)
    np.testing.assert_array_equal(tree["1"]["0"].values, data[::2, ::2])
    assert tree["1"].attrs["virtual_geotiff_level"]["ifd"] == 2
    assert "spatial_ref" not in tree["0"].variables and "mask" not in tree["0"].variables
    assert tree.attrs["multiscales"]["layout"][1]["transform"]["scale"] == [2.0, 2.0]
    assert "proj:code" not in tree.attrs


def test_eight_bit_mask_reads_as_stored_like_gdal(tmp_path):
    path = tmp_path / "mask8.tif"
    data = np.arange(32 * 48, dtype="uint16").reshape(32, 48)
    mask = np.zeros((32, 48), np.uint8)
    mask[:, 10:] = 255
    mask[5, 5] = 7  # GDAL returns 8-bit mask samples as stored
    with tifffile.TiffWriter(path) as tif:
        tif.write(data, tile=(16, 16), metadata=None)
        # tifffile only writes bilevel masks: write a PAGE with Photometric=4, then make it a MASK in place
        tif.write(mask, tile=(16, 16), subfiletype=2, photometric=4, metadata=None)
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[1].tags["NewSubfileType"].valueoffset
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(struct.pack("<I", 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path) as src:
            assert src.mask_flag_enums[0] == [rasterio.enums.MaskFlags.per_dataset]
            expected = src.read_masks(1)
    tree = open_tree(path)
    np.testing.assert_array_equal(tree["0"]["mask"].values, expected)
    np.testing.assert_array_equal(tree["0"]["mask"].values, mask)


# ------------------------------------------------------------------------------------------------- sidecars


def test_external_ovr_levels_match_rasterio(tmp_path):
    path = tmp_path / "ext.tif"
    write(path, external=(2, 4, 8))
    assert Path(str(path) + ".ovr").exists()
    with rasterio.open(path) as src:
        assert src.overviews(1) == [2, 4, 8]
    tree = open_tree(path)
    assert list(tree.children) == ["0", "1", "2", "3"]
    assert_level_matches_rasterio(tree["0"].to_dataset(), path, 0, masked=True)
    for level in (1, 2, 3):
        ds = tree[str(level)].to_dataset()
        # GDAL writes no mask overviews into the .ovr here and reports every overview pixel valid
        assert_level_matches_rasterio(ds, path, level, masked=False)
        with rasterio.open(path, overview_level=level - 1) as src:
            assert set(np.unique(src.read_masks(1))) == {255}
        info = ds.attrs["virtual_geotiff_level"]
        assert info["source"] == file_url(path) + ".ovr" and info["ifd"] == level - 1
    ds = open_level(path, 2)
    assert_level_matches_rasterio(ds, path, 3, masked=False)
    assert ds.sizes == {"y": 38, "x": 25}


def test_sidecar_lookup_can_be_turned_off_and_never_touches_flat_layouts(tmp_path):
    path = tmp_path / "ext.tif"
    write(path, mask=False, external=(2,))
    assert list(open_tree(path, sidecar_overviews=False).children) == ["0"]
    with pytest.raises(TiffFormatError, match="has 0 overview"):
        open_level(path, 0, sidecar_overviews=False)
    flat = zarr.open_group(VirtualTIFF()(url=file_url(path), registry=make_registry()), mode="r", zarr_format=3)
    assert sorted(flat.array_keys()) == ["0", "spatial_ref", "x", "y"]


def test_missing_sidecar_costs_one_request(tmp_path):
    path = tmp_path / "plain.tif"
    write(path, mask=False)
    calls = []

    class Counting:
        """A store that records every path it is asked for, then defers to LocalStore."""

        def __init__(self):
            self.inner = obstore.store.LocalStore()

        async def get_range_async(self, path, **kwargs):
            calls.append(path)
            return await self.inner.get_range_async(path, **kwargs)

        async def get_ranges_async(self, path, **kwargs):
            calls.append(path)
            return await self.inner.get_ranges_async(path, **kwargs)

    reg = ObjectStoreRegistry({"file://": Counting()})
    _, sidecar = run_sync(read_header_with_sidecar(file_url(path), reg, Limits(), sidecar=True))
    assert sidecar is None
    assert [c for c in calls if c.endswith(".ovr")] == [str(path).lstrip("/") + ".ovr"]
    calls.clear()
    VirtualTIFF(ifd=0)(file_url(path), reg)  # not a levels layout: never looks for a sidecar
    assert not [c for c in calls if c.endswith(".ovr")]


def test_sidecars_over_http(http_server, tmp_path):
    """Over HTTP: a .ovr next to the file becomes levels; a file without one costs one 404, a COG none."""
    write(tmp_path / "ext.tif", external=(2, 4))
    write(tmp_path / "plain.tif", mask=False)
    write(tmp_path / "cog.tif", mask=False, internal=(2,))
    reg = http_server.registry()
    store = VirtualTIFF(ifd_layout="multiscale")(url=http_server.url_for("ext.tif"), registry=reg)
    tree = xr.open_datatree(store, engine="zarr", zarr_format=3, consolidated=False)
    for level in range(3):
        assert_level_matches_rasterio(tree[str(level)].to_dataset(), tmp_path / "ext.tif", level, masked=level == 0)
    for name, probes in (("plain.tif", ["/plain.tif.ovr"]), ("cog.tif", [])):
        http_server.clear()
        VirtualTIFF(ifd_layout="multiscale")(url=http_server.url_for(name), registry=reg)
        assert [r.path for r in http_server.records if r.path.endswith(".ovr")] == probes
        assert all(r.status == 404 for r in http_server.records if r.path.endswith(".ovr"))


def test_sidecar_url_stays_next_to_the_source():
    assert sidecar_url("s3://bucket/a/b.tif") == "s3://bucket/a/b.tif.ovr"
    assert sidecar_url("file:///data/x/b.tif", make_registry()) == "file:///data/x/b.tif.ovr"
    assert sidecar_url("https://host/b.tif?X-Amz-Signature=1") is None
    assert sidecar_url("https://host/b.tif#frag") is None
    unregistered = ObjectStoreRegistry({"s3://other": obstore.store.MemoryStore()})
    assert sidecar_url("s3://bucket/a/b.tif", unregistered) is None


def test_internal_overviews_take_precedence_over_a_sidecar(tmp_path):
    path = tmp_path / "both.tif"
    write(path, mask=False, internal=(2,))
    # GDAL refuses to add a .ovr next to internal overviews; a stray one is ignored as GDAL ignores it
    write(tmp_path / "other.tif", mask=False, external=(2, 4))
    Path(str(path) + ".ovr").write_bytes(Path(str(tmp_path / "other.tif") + ".ovr").read_bytes())
    tree = open_tree(path)
    assert list(tree.children) == ["0", "1"]
    assert tree["1"].attrs["virtual_geotiff_level"]["source"] == file_url(path)


def test_multiscale_tree_round_trips_through_icechunk(tmp_path):
    """open_virtual_datatree -> dt.vz.to_icechunk -> commit -> open_datatree: same levels, masks, coordinates."""
    icechunk = pytest.importorskip("icechunk")
    from virtualizarr import open_virtual_datatree
    from virtualizarr.manifests import ManifestArray

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    path = data_dir / "cog.tif"
    write(path, internal=(2, 4))
    vdt = open_virtual_datatree(file_url(path), make_registry(), VirtualTIFF(ifd_layout="multiscale"))
    assert isinstance(vdt["1"]["mask"].data, ManifestArray)
    assert not isinstance(vdt["1"]["x"].data, ManifestArray)  # coordinates are loaded, never memory references
    container = f"file://{data_dir}/"
    credentials = icechunk.containers_credentials({container: None})
    config = icechunk.RepositoryConfig.default()
    config.set_virtual_chunk_container(icechunk.VirtualChunkContainer(container,
                                                                      icechunk.local_filesystem_store(str(data_dir))))
    storage = icechunk.local_filesystem_storage(str(tmp_path / "repo"))
    repo = icechunk.Repository.create(storage, config, authorize_virtual_chunk_access=credentials)
    session = repo.writable_session("main")
    vdt.vz.to_icechunk(session.store)
    session.commit("pyramid")
    repo = icechunk.Repository.open(storage, authorize_virtual_chunk_access=credentials)
    tree = xr.open_datatree(repo.readonly_session(branch="main").store, engine="zarr", zarr_format=3,
                            consolidated=False)
    assert tree.attrs["multiscales"]["layout"][2]["transform"]["scale"] == [4.0, 4.0]
    for level in range(3):
        assert_level_matches_rasterio(tree[str(level)].to_dataset(), path, level, masked=True)


# ------------------------------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("kwargs, message", [
    ({"overview_level": -1}, "overview_level must be"),
    ({"overview_level": True}, "overview_level must be"),
    ({"overview_level": 0, "ifd": 0}, "cannot be combined"),
    ({"overview_level": 0, "ifd_layout": "nested"}, "cannot be combined"),
    ({"ifd": 1, "ifd_layout": "multiscale"}, "drop ifd="),
    ({"sidecar_overviews": "yes"}, "sidecar_overviews must be"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        VirtualTIFF(**kwargs)


def test_multiscale_parser_pickles_and_keeps_no_state(tmp_path):
    path = tmp_path / "cog.tif"
    write(path, internal=(2,))
    parser = VirtualTIFF(ifd_layout="multiscale")
    before = dict(vars(parser))
    parser(url=file_url(path), registry=make_registry())
    assert vars(parser) == before
    clone = pickle.loads(pickle.dumps(VirtualTIFF(overview_level=1, sidecar_overviews=False)))
    assert (clone.overview_level, clone.sidecar_overviews) == (1, False)
    assert "overview_level=1" in repr(clone)
