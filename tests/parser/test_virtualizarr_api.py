"""VirtualiZarr's own API with ``VirtualTIFF`` and default arguments (issue 15).

Matrix: single-band and 3-band GeoTIFFs (pixel- and band-interleaved), with and without nodata, laid out as
the tiles of a 2 x 2 grid on two dates. Entry points: ``open_virtual_dataset``, ``open_virtual_mfdataset``
(``combine="by_coords"`` and ``"nested"``; ``parallel=False``, a ``ThreadPoolExecutor`` and ``"dask"``),
``xr.concat`` / ``xr.combine_by_coords`` of virtual datasets, ``vds.vz.to_icechunk`` (a real Icechunk
repository on disk, read back through its virtual chunk container) and ``vds.vz.to_kerchunk`` (JSON and
parquet, read back through fsspec's reference filesystem and through VirtualiZarr's kerchunk parsers).
Every decoded array is compared exactly with rasterio; CRS and transform with rioxarray.

Nothing but the URLs, the registry, the parser and (for a time stack) a ``preprocess`` that adds the date
is passed. The only keyword a result needed before ``virtual_geotiff.store`` was ``coords="minimal",
compat="override"``: the scalar ``spatial_ref`` stayed a ``ManifestArray`` that xarray could not compare.
"""

from __future__ import annotations

import functools
import json
import pickle
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rioxarray
import xarray as xr
from rasterio.transform import from_origin

from tests.support.helpers import file_url, make_registry
from virtual_geotiff import VirtualTIFF

icechunk = pytest.importorskip("icechunk")
virtualizarr = pytest.importorskip("virtualizarr")
from virtualizarr.manifests import ManifestArray  # noqa: E402

HEIGHT, WIDTH, BLOCK, RES = 32, 48, 16, 10.0
X0, Y0 = 500_000.0, 4_000_000.0
DATES = np.array(["2026-01-01", "2026-02-01"], dtype="datetime64[ns]")
GRID = (2, 2)
NODATA = 7


@dataclass(frozen=True)
class Variant:
    bands: int
    nodata: int | None
    interleave: str = "pixel"

    @property
    def id(self) -> str:
        nodata = "nodata" if self.nodata is not None else "no-nodata"
        return f"{self.bands}band-{self.interleave}-{nodata}" if self.bands > 1 else f"1band-{nodata}"

    @property
    def stacks(self) -> bool:
        """Pixel-interleaved bands (a ``transpose`` codec) cannot get a new leading dimension: VirtualiZarr 2.8's
        ``stack``/``expand_dims`` copies the codec's ``order`` unchanged and zarr refuses the metadata."""
        return self.bands == 1 or self.interleave == "band"

    @property
    def dates(self) -> range:
        return range(len(DATES)) if self.stacks else range(1)

    @property
    def kerchunk_ok(self) -> bool:
        """Pixel-interleaved bands need ``transpose``, which Zarr v2 metadata (kerchunk) cannot express."""
        return self.bands == 1 or self.interleave == "band"


VARIANTS = [Variant(1, None), Variant(1, NODATA), Variant(3, None, "pixel"), Variant(3, NODATA, "band")]


def tile_name(date: int, row: int, col: int) -> str:
    return f"d{date}_r{row}_c{col}.tif"


def write_tile(path: Path, variant: Variant, date: int, row: int, col: int) -> None:
    rng = np.random.default_rng(100 * date + 10 * row + col)
    # values 0..19: zeros (fill-value traps) and the nodata value both occur
    data = rng.integers(0, 20, (variant.bands, HEIGHT, WIDTH), dtype="uint16")
    transform = from_origin(X0 + col * WIDTH * RES, Y0 - row * HEIGHT * RES, RES, RES)
    with rasterio.open(path, "w", driver="GTiff", width=WIDTH, height=HEIGHT, count=variant.bands, dtype="uint16",
                       crs="EPSG:32633", transform=transform, nodata=variant.nodata, tiled=True,
                       blockxsize=BLOCK, blockysize=BLOCK, compress="deflate", interleave=variant.interleave) as dst:
        dst.write(data)


@pytest.fixture(scope="module")
def tiles(tmp_path_factory) -> dict[Variant, Path]:
    """``{variant: directory}``, each directory holding the 2 x 2 tiles of both dates."""
    out = {}
    for variant in VARIANTS:
        root = tmp_path_factory.mktemp(variant.id)
        for date in range(len(DATES)):
            for row in range(GRID[0]):
                for col in range(GRID[1]):
                    write_tile(root / tile_name(date, row, col), variant, date, row, col)
        out[variant] = root
    return out


def url(root: Path, date: int, row: int, col: int) -> str:
    return "file://" + str(root / tile_name(date, row, col))


def add_date(ds: xr.Dataset) -> xr.Dataset:
    """``preprocess``: the file's date as a length-1 ``time`` dimension coordinate (by_coords needs one)."""
    date = int(Path(ds.encoding["source"]).name[1])
    return ds.expand_dims(time=DATES[date : date + 1])


# ------------------------------------------------------------------------------------------------ expectations


@functools.cache
def rasterio_mosaic(root: Path, dates: range, rows: range, cols: range) -> np.ndarray:
    """rasterio's raw decode of the tiles, stacked ``(time, band, y, x)`` (read-only)."""
    stack = []
    for date in dates:
        blocks = []
        for row in rows:
            row_blocks = []
            for col in cols:
                with rasterio.open(root / tile_name(date, row, col)) as src:
                    row_blocks.append(src.read())
            blocks.append(np.concatenate(row_blocks, axis=-1))
        stack.append(np.concatenate(blocks, axis=-2))
    out = np.stack(stack)
    out.flags.writeable = False
    return out


@functools.cache
def rioxarray_reference(path: Path):
    """CRS, transform and x/y of one tile as rioxarray opens it."""
    ref = rioxarray.open_rasterio(path)
    return ref.rio.crs, ref.rio.transform(), ref.x.values, ref.y.values


def assert_georeferenced(ds: xr.Dataset, root: Path, row: int = 0, col: int = 0) -> None:
    """CRS, transform and x/y as rioxarray gives them for the top-left tile (the mosaic's origin)."""
    crs, transform, x, y = rioxarray_reference(root / tile_name(0, row, col))
    assert ds.rio.crs == crs
    assert ds.rio.transform() == transform
    assert ds["0"].attrs.get("grid_mapping", ds["0"].encoding.get("grid_mapping")) == "spatial_ref"
    np.testing.assert_array_equal(ds.x.values[:WIDTH], x)
    np.testing.assert_array_equal(ds.y.values[:HEIGHT], y)


def assert_decodes(opened, variant: Variant, root: Path, *, dates: range = range(2), rows: range = range(2),
                   cols: range = range(2), stacked: bool = True) -> xr.Dataset:
    """``opened(mask_and_scale)`` gives the decoded Dataset; compare raw and masked values with rasterio.
    Returns the masked Dataset."""
    expected = rasterio_mosaic(root, dates, rows, cols)
    if not stacked:
        expected = expected[0]
    if variant.bands == 1:
        expected = expected.squeeze(axis=-3)
    raw = opened(False)
    assert raw["0"].dtype == np.uint16
    np.testing.assert_array_equal(raw["0"].values, expected)
    masked = opened(True)
    values = masked["0"].values
    if variant.nodata is None:
        assert values.dtype == np.uint16
        np.testing.assert_array_equal(values, expected)
    else:
        missing = expected == variant.nodata
        assert missing.any()
        np.testing.assert_array_equal(np.isnan(values), missing)
        np.testing.assert_array_equal(values[~missing], expected[~missing])
        assert masked["0"].rio.encoded_nodata == variant.nodata
    assert_georeferenced(masked, root, rows[0], cols[0])
    return masked


# ------------------------------------------------------------------------------------------------- decoding


def container(root: Path) -> str:
    return "file://" + str(root) + "/"


def icechunk_repo(root: Path, storage) -> icechunk.Repository:
    config = icechunk.RepositoryConfig.default()
    config.set_virtual_chunk_container(icechunk.VirtualChunkContainer(container(root),
                                                                      icechunk.local_filesystem_store(str(root))))
    return icechunk.Repository.create(storage, config)


def open_committed(storage, root: Path):
    """``opened(mask_and_scale)`` on the main branch of the repository, as a new reader would open it."""
    credentials = icechunk.containers_credentials({container(root): icechunk.credentials.LocalFileSystemAccess})
    repo = icechunk.Repository.open(storage, authorize_virtual_chunk_access=credentials)

    def opened(mask_and_scale: bool) -> xr.Dataset:
        return xr.open_zarr(repo.readonly_session(branch="main").store, zarr_format=3, consolidated=False,
                            mask_and_scale=mask_and_scale)

    return opened


def through_icechunk(vds: xr.Dataset, root: Path, storage=None):
    """Commit ``vds`` with ``vds.vz.to_icechunk`` (defaults) and return the reader of the commit."""
    storage = storage or icechunk.in_memory_storage()
    session = icechunk_repo(root, storage).writable_session("main")
    vds.vz.to_icechunk(session.store)
    session.commit("virtual GeoTIFFs")
    return open_committed(storage, root)


def assert_virtual(vds: xr.Dataset) -> None:
    """Pixels stay references; computed coordinates are in memory; the dataset pickles (process executors)."""
    assert isinstance(vds["0"].data, ManifestArray)
    for name in ("x", "y", "spatial_ref"):
        assert isinstance(vds[name].data, np.ndarray), name
    assert vds.spatial_ref.item() == 0
    assert pickle.loads(pickle.dumps(vds)).identical(vds)


# ---------------------------------------------------------------------------------------------------- tests

VARIANT_PARAMS = [pytest.param(v, id=v.id) for v in VARIANTS]


@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_open_virtual_dataset(tiles, variant):
    root = tiles[variant]
    vds = virtualizarr.open_virtual_dataset(url(root, 0, 1, 1), registry=make_registry(), parser=VirtualTIFF(ifd=0))
    assert_virtual(vds)
    assert_georeferenced(vds, root, 1, 1)
    assert_decodes(through_icechunk(vds, root), variant, root, dates=range(1), rows=range(1, 2), cols=range(1, 2),
                   stacked=False)


@pytest.mark.parametrize("variant", VARIANT_PARAMS[:2])
def test_open_virtual_datatree(tiles, variant):
    """The nested layout through ``open_virtual_datatree``: every group's spatial_ref is in memory too."""
    root = tiles[variant]
    vdt = virtualizarr.open_virtual_datatree(url(root, 0, 0, 0), registry=make_registry(),
                                             parser=VirtualTIFF(ifd_layout="nested"))
    group = vdt["0"].to_dataset()
    assert isinstance(group["0"].data, ManifestArray) and isinstance(group.spatial_ref.data, np.ndarray)
    assert_georeferenced(group, root)


def thread_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2)


PARALLEL = [pytest.param(False, id="serial"), pytest.param(thread_pool, id="threads"),
            pytest.param("dask", id="dask")]


def open_mf(root: Path, variant: Variant, combine: str, parallel, dates: range) -> xr.Dataset:
    """``open_virtual_mfdataset`` of the 2 x 2 tiles on ``dates`` (a time stack when ``variant.stacks``)."""
    stack = variant.stacks
    if combine == "nested":
        nested = [[[url(root, d, r, c) for c in range(2)] for r in range(2)] for d in dates]
        urls = nested if stack else nested[0]
        kwargs = {"concat_dim": ["time", "y", "x"] if stack else ["y", "x"]}
    else:
        urls = [url(root, d, r, c) for d in reversed(dates) for r in (1, 0) for c in (0, 1)]  # order must not matter
        kwargs = {}
    if stack:
        kwargs["preprocess"] = add_date
    return virtualizarr.open_virtual_mfdataset(urls, registry=make_registry(), parser=VirtualTIFF(ifd=0),
                                               combine=combine, parallel=parallel, **kwargs)


def check_cube(vds: xr.Dataset, variant: Variant) -> None:
    assert_virtual(vds)
    assert vds.sizes["y"] == 2 * HEIGHT and vds.sizes["x"] == 2 * WIDTH
    if variant.stacks:
        np.testing.assert_array_equal(vds.time.values, DATES)
    # the per-file GeoZarr grid attributes would be stale in a mosaic: left out of virtual datasets
    assert not any(k.startswith("spatial:") for k in vds["0"].attrs)
    assert vds["0"].attrs["proj:code"] == "EPSG:32633"


@pytest.mark.parametrize("parallel", PARALLEL)
@pytest.mark.parametrize("combine", ["by_coords", "nested"])
@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_open_virtual_mfdataset(tiles, variant, combine, parallel):
    root = tiles[variant]
    pool = parallel() if callable(parallel) else None
    try:
        vds = open_mf(root, variant, combine, pool or parallel, variant.dates)
    finally:
        if pool is not None:
            pool.shutdown()
    check_cube(vds, variant)
    assert_decodes(through_icechunk(vds, root), variant, root, dates=variant.dates, stacked=variant.stacks)


def test_pixel_interleaved_bands_do_not_stack_in_time(tiles):
    """Documents VirtualiZarr 2.8: adding a dimension to an array with a ``transpose`` codec fails (loudly).
    When this starts passing through, make ``Variant.stacks`` True for every variant."""
    variant = VARIANTS[2]
    assert not variant.stacks
    vds = virtualizarr.open_virtual_dataset(url(tiles[variant], 0, 0, 0), registry=make_registry(),
                                            parser=VirtualTIFF(ifd=0))
    with pytest.raises(ValueError, match="order"):
        vds.expand_dims(time=DATES[:1])
    with pytest.raises(ValueError, match="order"):
        xr.concat([vds, vds], dim="time")


@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_xr_concat_and_combine_by_coords(tiles, variant):
    root = tiles[variant]
    reg, parser = make_registry(), VirtualTIFF(ifd=0)
    if variant.stacks:
        by_date = [virtualizarr.open_virtual_dataset(url(root, d, 0, 0), registry=reg, parser=parser)
                   for d in range(2)]
        stacked = xr.concat(by_date, dim="time")
        assert_virtual(stacked)
        assert_decodes(through_icechunk(stacked, root), variant, root, rows=range(1), cols=range(1))

    parts = [virtualizarr.open_virtual_dataset(url(root, d, r, c), registry=reg, parser=parser)
             for d in variant.dates for r in range(2) for c in range(2)]
    if variant.stacks:
        parts = [add_date(p) for p in parts]
    mosaic = xr.combine_by_coords(parts[::-1])
    check_cube(mosaic, variant)
    assert_decodes(through_icechunk(mosaic, root), variant, root, dates=variant.dates, stacked=variant.stacks)


@pytest.fixture(scope="module")
def cubes(tiles) -> dict[Variant, xr.Dataset]:
    """The by_coords mosaic (a time stack where possible) of every variant (serial, defaults)."""
    return {variant: open_mf(root, variant, "by_coords", False, variant.dates) for variant, root in tiles.items()}


@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_to_icechunk_on_disk(tiles, cubes, variant, tmp_path):
    """A repository on disk, reopened by a new ``Repository.open`` with ``authorize_virtual_chunk_access``."""
    root = tiles[variant]
    opened = through_icechunk(cubes[variant], root, icechunk.local_filesystem_storage(str(tmp_path / "repo")))
    assert_decodes(opened, variant, root, dates=variant.dates, stacked=variant.stacks)
    ds = opened(True)
    assert not isinstance(ds.spatial_ref.variable._data, ManifestArray)
    assert ds.spatial_ref.attrs["crs_wkt"] and ds.spatial_ref.item() == 0


def reference_reader(path: Path):
    def opened(mask_and_scale: bool) -> xr.Dataset:
        return xr.open_dataset("reference://", engine="zarr", mask_and_scale=mask_and_scale,
                               backend_kwargs={"consolidated": False, "storage_options": {"fo": str(path)}})

    return opened


def kerchunk_parser(fmt: str):
    from virtualizarr.parsers import KerchunkJSONParser, KerchunkParquetParser

    return KerchunkJSONParser() if fmt == "json" else KerchunkParquetParser()


def expected_values(root: Path, variant: Variant) -> np.ndarray:
    expected = rasterio_mosaic(root, variant.dates, range(2), range(2))
    expected = expected if variant.stacks else expected[0]
    return expected.squeeze(axis=-3) if variant.bands == 1 else expected


@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_vz_to_kerchunk_json(tiles, cubes, variant, tmp_path):
    """``vds.vz.to_kerchunk(path, format="json")`` read through fsspec's reference filesystem."""
    root, vds = tiles[variant], cubes[variant]
    path = tmp_path / "refs.json"
    if not variant.kerchunk_ok:
        # Zarr v2 has no transpose codec: VirtualiZarr refuses (loudly)
        from zarr.errors import UnknownCodecError

        with pytest.raises(UnknownCodecError, match="transpose"):
            vds.vz.to_kerchunk(str(path), format="json")
        return
    vds.vz.to_kerchunk(str(path), format="json")
    opened = reference_reader(path)
    if variant.nodata is not None:
        assert_decodes(opened, variant, root, dates=variant.dates, stacked=variant.stacks)
    else:
        # VirtualiZarr copies the Zarr v3 fill value (0) into the v2 .zarray and xarray masks a v2 fill value:
        # every valid 0 reads as NaN (zarr-developers/VirtualiZarr#478). Raw values are exact.
        expected = expected_values(root, variant)
        np.testing.assert_array_equal(np.isnan(opened(True)["0"].values), expected == 0)
        np.testing.assert_array_equal(opened(False)["0"].values, expected)
        assert_georeferenced(opened(False), root)
    # a 0-d in-memory variable gets the chunk key "spatial_ref/" (Zarr v2 wants "spatial_ref/0"): fsspec readers
    # fall back to the fill value (0, right for a grid mapping); VirtualiZarr's own kerchunk parser refuses it
    refs = json.loads(path.read_text())["refs"]
    assert "spatial_ref/" in refs and "spatial_ref/0" not in refs
    with pytest.raises(ValueError, match="chunk key"):
        virtualizarr.open_virtual_dataset(file_url(path), registry=make_registry(), parser=kerchunk_parser("json"))


def test_vz_to_kerchunk_parquet_refuses_scalar_coordinates(cubes, tmp_path):
    """Documents VirtualiZarr 2.8: the "spatial_ref/" key of a 0-d in-memory variable sorts before its .zarray,
    and kerchunk's parquet writer fails on it. ``virtual_geotiff.kerchunk.to_kerchunk`` writes parquet."""
    with pytest.raises(KeyError, match=r"spatial_ref/\.zarray"):
        cubes[VARIANTS[0]].vz.to_kerchunk(str(tmp_path / "refs.parquet"), format="parquet")


@pytest.mark.parametrize("fmt", ["json", "parquet"])
@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_to_kerchunk(tiles, cubes, variant, fmt, tmp_path):
    """``virtual_geotiff.kerchunk.to_kerchunk`` (VirtualiZarr's writer with both traps fixed), read back through
    fsspec and through VirtualiZarr's kerchunk parsers."""
    from virtual_geotiff.kerchunk import KerchunkExportError, to_kerchunk

    root, vds = tiles[variant], cubes[variant]
    path = tmp_path / f"refs.{fmt}"
    if not variant.kerchunk_ok:
        with pytest.raises(KerchunkExportError, match=r"0: .*transpose"):
            to_kerchunk(vds, path, format=fmt)
        return
    to_kerchunk(vds, path, format=fmt)
    decoded = assert_decodes(reference_reader(path), variant, root, dates=variant.dates, stacked=variant.stacks)
    np.testing.assert_array_equal(decoded.time.values, DATES)

    back = virtualizarr.open_virtual_dataset(file_url(path), registry=make_registry(), parser=kerchunk_parser(fmt))
    assert isinstance(back["0"].data, ManifestArray)
    assert_decodes(through_icechunk(back, root), variant, root, dates=variant.dates, stacked=variant.stacks)


def test_kerchunk_json_is_plain_json(tiles, cubes, tmp_path):
    """The references carry spatial_ref inline (no memory:// URL, no chunkless virtual array)."""
    from virtual_geotiff.kerchunk import to_kerchunk

    path = tmp_path / "refs.json"
    to_kerchunk(cubes[VARIANTS[0]], path, format="json")
    refs = json.loads(path.read_text())["refs"]
    assert not any("memory://" in str(v) for v in refs.values())
    assert json.loads(refs["spatial_ref/.zattrs"])["GeoTransform"] == f"{X0} {RES} 0.0 {Y0} 0.0 {-RES}"
    assert "spatial_ref/0" in refs
