"""GDAL VRT in: a VRT over a generated tile grid of COGs reads through ``VirtualVRT`` exactly as rasterio
reads the VRT (pixels, CRS, transform, x/y, nodata); VRT features that need computation raise a typed error
naming the feature and the element.

No GDAL Python bindings are installed, so the mosaic VRTs are written as ``gdalbuildvrt`` writes them
(``build_vrt``) and, as a second form, re-serialised by GDAL itself (``rasterio.shutil.copy(...,
driver="VRT")``); a single-file VRT comes straight from GDAL's VRT driver.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import obstore
import pytest
import rasterio
import rasterio.shutil
import rioxarray
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry
from rasterio.crs import CRS
from rasterio.transform import from_origin
from virtualizarr.manifests import ChunkManifest, ManifestArray

from tests.support.cube import BLOCK, read_cube, write_tile
from tests.support.cube import RES as CUBE_RES
from tests.support.cube import X0 as CUBE_X0
from tests.support.cube import Y0 as CUBE_Y0
from tests.support.cube import write_grid as write_cube_grid
from tests.support.helpers import make_registry
from virtual_geotiff import InvalidArgumentError, UnsupportedTiffError
from virtual_geotiff.cube import open_virtual_cube
from virtual_geotiff.errors import UnsafeUrlError, UnsupportedVrtError, VrtFormatError
from virtual_geotiff.vrt import VirtualVRT
from virtual_geotiff.vrt.paths import gdal_filename, source_url
from virtual_geotiff.vrt.writer import write_vrts

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning"),
    pytest.mark.filterwarnings("ignore:Numcodecs codecs:UserWarning"),
]

TILE = 32
COG_TILE = 128
EPSG = 32633
RES = 10.0
X0, Y0 = 500_000.0, 6_000_000.0


def write_grid(folder: Path, *, rows: int = 2, cols: int = 3, tile_px: int = 64, last_width: int = 50,
               last_height: int = 40, bands: int = 1, dtype: str = "uint16", nodata: float | None = 0,
               interleave: str = "band", seed: int = 0, cog: bool = False) -> tuple[list[dict], np.ndarray]:
    """A ``rows`` x ``cols`` grid of tiled GeoTIFFs (tiles of ``TILE`` px; ``cog=True``: COGs written by GDAL's
    COG driver, tiles of ``COG_TILE`` px) cut from one random mosaic; the last column and row are
    narrower/shorter than the others (partial edge tiles on the mosaic's edge)."""
    widths = [tile_px] * (cols - 1) + [last_width]
    heights = [tile_px] * (rows - 1) + [last_height]
    rng = np.random.default_rng(seed)
    shape = (bands, sum(heights), sum(widths))
    if np.dtype(dtype).kind == "f":
        mosaic = rng.standard_normal(shape).astype(dtype)
    else:
        mosaic = rng.integers(1, np.iinfo(dtype).max, shape, dtype=dtype, endpoint=True)
    mosaic[:, :5, :7] = 0 if nodata is None else nodata  # some nodata pixels
    tiles = []
    y = 0
    for i, h in enumerate(heights):
        x = 0
        for j, w in enumerate(widths):
            path = folder / f"tile_{i}_{j}.tif"
            profile = dict(width=w, height=h, count=bands, dtype=dtype, crs=CRS.from_epsg(EPSG),
                           transform=from_origin(X0 + x * RES, Y0 - y * RES, RES, RES), compress="DEFLATE",
                           predictor=3 if np.dtype(dtype).kind == "f" else 2)
            if cog:
                profile.update(driver="COG", blocksize=COG_TILE, overviews="NONE")
            else:
                profile.update(driver="GTiff", tiled=True, blockxsize=TILE, blockysize=TILE,
                               interleave=interleave)
            if nodata is not None:
                profile["nodata"] = nodata
            with rasterio.open(path, "w", **profile) as dst:
                dst.write(mosaic[:, y:y + h, x:x + w])
            tiles.append(dict(path=path, x=x, y=y, width=w, height=h, tile=COG_TILE if cog else TILE))
            x += w
        y += h
    return tiles, mosaic


GDAL_TYPES = {"uint8": "Byte", "uint16": "UInt16", "int16": "Int16", "float32": "Float32", "float64": "Float64"}


def build_vrt(tiles: list[dict], out: Path, *, bands: int = 1, dtype: str = "uint16", nodata: float | None = 0,
              separate: bool = False, source_extra: str = "", band_extra: str = "", dataset_extra: str = "",
              source_tag: str | None = None) -> Path:
    """The VRT ``gdalbuildvrt`` writes over ``tiles`` (``-separate``: one VRT band per file)."""
    width = max(t["x"] + t["width"] for t in tiles)
    height = max(t["y"] + t["height"] for t in tiles)
    tag = source_tag or ("ComplexSource" if nodata is not None else "SimpleSource")

    def source(t: dict, band: int) -> str:
        nd = f"<NODATA>{nodata:g}</NODATA>" if tag == "ComplexSource" and nodata is not None else ""
        rel = t["path"].relative_to(out.parent) if t["path"].is_relative_to(out.parent) else t["path"]
        return (f'<{tag}><SourceFilename relativeToVRT="{int(not rel.is_absolute())}">{rel}</SourceFilename>'
                f"<SourceBand>{band}</SourceBand>"
                f'<SourceProperties RasterXSize="{t["width"]}" RasterYSize="{t["height"]}" '
                f'DataType="{GDAL_TYPES[dtype]}" BlockXSize="{t["tile"]}" BlockYSize="{t["tile"]}" />'
                f'<SrcRect xOff="0" yOff="0" xSize="{t["width"]}" ySize="{t["height"]}" />'
                f'<DstRect xOff="{t["x"]}" yOff="{t["y"]}" xSize="{t["width"]}" ySize="{t["height"]}" />'
                f"{nd}{source_extra}</{tag}>")

    if separate:
        band_sources = [[source(t, 1)] for t in tiles]
    else:
        band_sources = [[source(t, b) for t in tiles] for b in range(1, bands + 1)]
    xml_bands = []
    for number, sources in enumerate(band_sources, start=1):
        nd = f"<NoDataValue>{nodata:g}</NoDataValue>" if nodata is not None else ""
        xml_bands.append(f'<VRTRasterBand dataType="{GDAL_TYPES[dtype]}" band="{number}">{nd}'
                         f"<ColorInterp>Gray</ColorInterp>{band_extra}{''.join(sources)}</VRTRasterBand>")
    wkt = CRS.from_epsg(EPSG).to_wkt()
    xml = (f'<VRTDataset rasterXSize="{width}" rasterYSize="{height}">'
           f'<SRS dataAxisToSRSAxisMapping="1,2">{wkt}</SRS>'
           f"<GeoTransform>{X0!r}, {RES!r}, 0.0, {Y0!r}, 0.0, {-RES!r}</GeoTransform>"
           f"{dataset_extra}{''.join(xml_bands)}</VRTDataset>")
    out.write_text(xml)
    return out


def open_vrt(path: Path, parser: VirtualVRT | None = None, reg: ObjectStoreRegistry | None = None,
             **kwargs) -> xr.Dataset:
    store = (parser or VirtualVRT())(url=f"file://{path}", registry=reg or make_registry())
    return xr.open_zarr(store, zarr_format=3, consolidated=False, **kwargs)


def rasterio_read(path: Path) -> tuple[np.ndarray, rasterio.Affine, CRS, tuple]:
    with rasterio.open(path) as src:
        return src.read(), src.transform, src.crs, src.nodatavals


def assert_matches_rasterio(ds: xr.Dataset, path: Path, name: str = "0", parser: VirtualVRT | None = None) -> None:
    """Pixels, CRS, transform, x/y and nodata equal what rasterio/rioxarray read from the VRT."""
    want, transform, crs, nodatavals = rasterio_read(path)
    raw = ds[name]
    got = raw.values
    if got.ndim == 2:
        got = got[None]
    np.testing.assert_array_equal(got, want, strict=True)
    ref = rioxarray.open_rasterio(path)
    np.testing.assert_array_equal(ds["x"].values, ref["x"].values)
    np.testing.assert_array_equal(ds["y"].values, ref["y"].values)
    assert CRS.from_wkt(ds["spatial_ref"].attrs["crs_wkt"]) == crs
    gt = [float(v) for v in ds["spatial_ref"].attrs["GeoTransform"].split()]
    assert rasterio.Affine.from_gdal(*gt) == transform
    fill = open_vrt(path, parser)[name].encoding.get("_FillValue")
    if nodatavals[0] is None:
        assert fill is None
    else:
        assert fill == nodatavals[0] or (np.isnan(fill) and np.isnan(nodatavals[0]))


# ------------------------------------------------------------------------------------------------ reading


@pytest.mark.parametrize("nodata", [0, None], ids=["complex-nodata", "simple"])
def test_tile_grid_reads_as_rasterio_reads_the_vrt(tmp_path: Path, nodata) -> None:
    tiles, mosaic = write_grid(tmp_path, nodata=nodata, cog=True, tile_px=256, last_width=200, last_height=130)
    vrt = build_vrt(tiles, tmp_path / "mosaic.vrt", nodata=nodata)
    ds = open_vrt(vrt, mask_and_scale=False)
    assert ds["0"].dims == ("y", "x") and ds["0"].shape == mosaic.shape[1:] == (386, 712)
    assert ds["0"].data.chunksize == (COG_TILE, COG_TILE)
    assert_matches_rasterio(ds, vrt)
    np.testing.assert_array_equal(ds["0"].values, mosaic[0])
    # GDAL's own serialisation of the same VRT (SourceProperties, spacing, number formats as GDAL writes)
    gdal_vrt = tmp_path / "gdal.vrt"
    rasterio.shutil.copy(vrt, gdal_vrt, driver="VRT")
    assert_matches_rasterio(open_vrt(gdal_vrt, mask_and_scale=False), gdal_vrt)
    if nodata is not None:
        masked = open_vrt(vrt)["0"].values
        assert np.isnan(masked[:5, :7]).all() and not np.isnan(masked[5:, 7:]).any()


def test_float_tiles_with_nan_nodata(tmp_path: Path) -> None:
    tiles, _ = write_grid(tmp_path, dtype="float32", nodata=float("nan"), rows=1, cols=2)
    vrt = build_vrt(tiles, tmp_path / "m.vrt", dtype="float32", nodata=float("nan"))
    assert_matches_rasterio(open_vrt(vrt, mask_and_scale=False), vrt)


@pytest.mark.parametrize("interleave", ["band", "pixel"])
def test_multiband_tiles_stack(tmp_path: Path, interleave: str) -> None:
    tiles, mosaic = write_grid(tmp_path, bands=3, interleave=interleave, rows=2, cols=2)
    vrt = build_vrt(tiles, tmp_path / "m.vrt", bands=3)
    ds = open_vrt(vrt, mask_and_scale=False)
    assert ds["0"].dims == ("band", "y", "x")
    assert_matches_rasterio(ds, vrt)
    np.testing.assert_array_equal(ds["0"].values, mosaic)


def test_separate_band_arrays(tmp_path: Path) -> None:
    tiles, mosaic = write_grid(tmp_path, bands=2, rows=1, cols=2)
    vrt = build_vrt(tiles, tmp_path / "m.vrt", bands=2,
                    band_extra="<Description>red</Description><Scale>0.5</Scale><UnitType>m</UnitType>")
    ds = open_vrt(vrt, VirtualVRT(bands="separate"), mask_and_scale=False)
    assert set(ds.data_vars) == {"band_1", "band_2"}
    for b in (1, 2):
        np.testing.assert_array_equal(ds[f"band_{b}"].values, mosaic[b - 1])
        assert ds[f"band_{b}"].attrs["long_name"] == "red" and ds[f"band_{b}"].attrs["units"] == "m"
        assert ds[f"band_{b}"].attrs["scale_factor"] == 0.5


def test_gdalbuildvrt_separate_stacks_files_as_bands(tmp_path: Path) -> None:
    tiles, mosaic = write_grid(tmp_path, rows=1, cols=3, last_width=64, last_height=64)
    for t in tiles:  # -separate: every file covers the whole VRT
        t["x"] = 0
    vrt = build_vrt(tiles, tmp_path / "sep.vrt", separate=True)
    ds = open_vrt(vrt, mask_and_scale=False)
    assert ds["0"].shape == (3, 64, 64)
    assert_matches_rasterio(ds, vrt)
    np.testing.assert_array_equal(ds["0"].values, mosaic[0].reshape(64, 3, 64).transpose(1, 0, 2))


def test_gdal_written_single_file_vrt(tmp_path: Path) -> None:
    tiles, _ = write_grid(tmp_path, rows=1, cols=1, tile_px=96, last_width=80, last_height=70, bands=2)
    vrt = tmp_path / "one.vrt"
    rasterio.shutil.copy(tiles[0]["path"], vrt, driver="VRT")
    assert "SimpleSource" in vrt.read_text() or "ComplexSource" in vrt.read_text()
    assert_matches_rasterio(open_vrt(vrt, mask_and_scale=False), vrt)


def test_chunk_aligned_src_window(tmp_path: Path) -> None:
    tiles, mosaic = write_grid(tmp_path, rows=1, cols=1, tile_px=128, last_width=128, last_height=128)
    src = tiles[0]
    xml = (f'<VRTDataset rasterXSize="64" rasterYSize="96"><VRTRasterBand dataType="UInt16" band="1">'
           f'<SimpleSource><SourceFilename relativeToVRT="1">{src["path"].name}</SourceFilename>'
           '<SourceBand>1</SourceBand><SrcRect xOff="32" yOff="32" xSize="64" ySize="96" />'
           '<DstRect xOff="0" yOff="0" xSize="64" ySize="96" /></SimpleSource></VRTRasterBand></VRTDataset>')
    vrt = tmp_path / "win.vrt"
    vrt.write_text(xml)
    ds = open_vrt(vrt, mask_and_scale=False)
    want, *_ = rasterio_read(vrt)
    np.testing.assert_array_equal(ds["0"].values, want[0])
    np.testing.assert_array_equal(ds["0"].values, mosaic[0, 32:, 32:96])
    assert "spatial_ref" not in ds.coords  # no SRS/GeoTransform: not georeferenced, as GDAL reports it


def test_holes_read_as_nodata(tmp_path: Path) -> None:
    tiles, _ = write_grid(tmp_path, rows=2, cols=2, last_width=64, last_height=64)
    vrt = build_vrt([tiles[0], tiles[3]], tmp_path / "holes.vrt", nodata=0)
    ds = open_vrt(vrt, mask_and_scale=False)
    assert_matches_rasterio(ds, vrt)


def test_parser_pickles_and_validates() -> None:
    parser = pickle.loads(pickle.dumps(VirtualVRT(bands="separate")))
    assert parser.bands == "separate"
    with pytest.raises(InvalidArgumentError):
        VirtualVRT(bands="bands")
    with pytest.raises(InvalidArgumentError):
        VirtualVRT(concurrency=0)


# ------------------------------------------------------------------------------------------------ refusals


def _grid_vrt(tmp_path: Path, **kwargs) -> Path:
    tiles, _ = write_grid(tmp_path, rows=1, cols=2, last_width=64, last_height=64)
    return build_vrt(tiles, tmp_path / "m.vrt", **kwargs)


@pytest.mark.parametrize(("kwargs", "feature"), [
    (dict(source_extra="<ScaleRatio>2</ScaleRatio>"), "scaling"),
    (dict(source_extra="<ScaleOffset>10</ScaleOffset>"), "scaling"),
    (dict(source_extra="<LUT>0:0,65535:255</LUT>"), "LUT"),
    (dict(source_extra="<ColorTableComponent>1</ColorTableComponent>"), "colour table"),
    (dict(source_tag="KernelFilteredSource"), "KernelFilteredSource"),
    (dict(source_tag="AveragedSource"), "AveragedSource"),
    (dict(band_extra="<ColorTable><Entry c1='0' c2='0' c3='0' c4='255'/></ColorTable>"), "colour table"),
    (dict(band_extra="<PixelFunctionType>sum</PixelFunctionType>"), "pixel function"),
    (dict(dataset_extra="<MaskBand><VRTRasterBand dataType='Byte'/></MaskBand>"), "mask band"),
    (dict(source_extra="<UseMaskBand>true</UseMaskBand>"), "mask"),
    (dict(nodata=0, source_extra="", band_extra=""), None),  # control: accepted
])
def test_computed_features_are_refused_by_name(tmp_path: Path, kwargs, feature) -> None:
    vrt = _grid_vrt(tmp_path, **kwargs)
    if feature is None:
        assert_matches_rasterio(open_vrt(vrt, mask_and_scale=False), vrt)
        return
    with pytest.raises(UnsupportedVrtError, match=feature) as info:
        open_vrt(vrt)
    assert isinstance(info.value, UnsupportedTiffError)
    assert "VRT" in str(info.value)


def _edit(vrt: Path, old: str, new: str, count: int = 1) -> Path:
    text = vrt.read_text()
    assert old in text
    vrt.write_text(text.replace(old, new, count))
    return vrt


def test_nodata_compositing_is_refused(tmp_path: Path) -> None:
    vrt = _edit(_grid_vrt(tmp_path), "<NODATA>0</NODATA>", "<NODATA>7</NODATA>")
    with pytest.raises(UnsupportedVrtError, match=r"ComplexSource 1.*nodata compositing"):
        open_vrt(vrt)


def test_warped_and_derived_vrts_are_refused(tmp_path: Path) -> None:
    vrt = _edit(_grid_vrt(tmp_path), "<VRTDataset ", '<VRTDataset subClass="VRTWarpedDataset" ')
    with pytest.raises(UnsupportedVrtError, match="VRTWarpedDataset"):
        open_vrt(vrt)
    vrt = _edit(_grid_vrt(tmp_path), '<VRTRasterBand dataType="UInt16" band="1">',
                '<VRTRasterBand dataType="UInt16" band="1" subClass="VRTDerivedRasterBand">')
    with pytest.raises(UnsupportedVrtError, match="VRTDerivedRasterBand"):
        open_vrt(vrt)


def test_resampling_and_partial_chunk_placement_are_refused(tmp_path: Path) -> None:
    vrt = _edit(_grid_vrt(tmp_path), '<DstRect xOff="64" yOff="0" xSize="64" ySize="64" />',
                '<DstRect xOff="64" yOff="0" xSize="128" ySize="128" />')
    with pytest.raises(UnsupportedVrtError, match="resampling"):
        open_vrt(vrt)
    vrt = _edit(_grid_vrt(tmp_path), '<DstRect xOff="64" yOff="0" xSize="64" ySize="64" />',
                '<DstRect xOff="60" yOff="0" xSize="64" ySize="64" />')
    with pytest.raises(UnsupportedVrtError, match=r"ComplexSource 2.*partial-chunk placement"):
        open_vrt(vrt)
    vrt = _edit(_grid_vrt(tmp_path), '<SrcRect xOff="0" yOff="0" xSize="64" ySize="64" />',
                '<SrcRect xOff="0.5" yOff="0" xSize="64" ySize="64" />')
    with pytest.raises(UnsupportedVrtError, match="sub-pixel"):
        open_vrt(vrt)


def test_partial_edge_tile_inside_the_mosaic_is_refused(tmp_path: Path) -> None:
    tiles, _ = write_grid(tmp_path, rows=1, cols=2, last_width=50)
    tiles.reverse()  # the 50-px file first: its partial tile would land inside the mosaic
    tiles[0]["x"], tiles[1]["x"] = 0, 64
    vrt = build_vrt(tiles, tmp_path / "m.vrt")
    with pytest.raises(UnsupportedVrtError, match="partial"):
        open_vrt(vrt)


def test_data_type_conversion_is_refused(tmp_path: Path) -> None:
    vrt = _edit(_grid_vrt(tmp_path), 'dataType="UInt16"', 'dataType="Float32"')
    with pytest.raises(UnsupportedVrtError, match="data type conversion"):
        open_vrt(vrt)


def test_sources_outside_registered_prefixes_are_refused(tmp_path: Path) -> None:
    (tmp_path / "vrts").mkdir()
    tiles, _ = write_grid(tmp_path, rows=1, cols=2, last_width=64, last_height=64)
    vrt = build_vrt(tiles, tmp_path / "vrts" / "m.vrt")  # absolute paths: outside vrts/
    only_vrts = ObjectStoreRegistry({f"file://{tmp_path}/vrts": obstore.store.LocalStore(tmp_path / "vrts")})
    with pytest.raises(UnsafeUrlError, match="outside the allowed prefix"):
        open_vrt(vrt, reg=only_vrts)
    _edit(vrt, f'relativeToVRT="0">{tmp_path}/', 'relativeToVRT="1">../', count=2)
    with pytest.raises(UnsafeUrlError, match="outside the allowed prefix"):
        open_vrt(vrt, reg=only_vrts)
    assert_matches_rasterio(open_vrt(vrt, mask_and_scale=False), vrt)  # with the parent registered: fine


def test_source_urls() -> None:
    vrt = "s3://bucket/mosaics/m.vrt"
    reg = ObjectStoreRegistry({"s3://bucket": obstore.store.MemoryStore()})
    assert source_url(vrt, "a/b.tif", True, reg) == "s3://bucket/mosaics/a/b.tif"
    assert source_url(vrt, "../tiles/./b.tif", True, reg) == "s3://bucket/tiles/b.tif"
    assert source_url(vrt, "/vsis3/bucket/k.tif", False, reg) == "s3://bucket/k.tif"
    with pytest.raises(UnsafeUrlError):  # another bucket: outside the VRT's registered prefix
        source_url(vrt, "/vsis3/other/k.tif", False, reg)
    with pytest.raises(UnsafeUrlError):
        source_url(vrt, "/vsicurl/https://h.org/y.tif", False, reg)
    with pytest.raises(UnsafeUrlError, match="climbs above"):
        source_url(vrt, "../../../etc/passwd", True, reg)
    with pytest.raises(VrtFormatError, match="local path"):  # GDAL would read the local disk
        source_url(vrt, "/etc/passwd", False, reg)
    with pytest.raises(VrtFormatError, match="working directory"):
        source_url(vrt, "b.tif", False, reg)
    with pytest.raises(UnsupportedVrtError, match="vsizip"):
        source_url(vrt, "/vsizip/a.zip/b.tif", False, reg)
    assert gdal_filename("s3://b/k.tif") == "/vsis3/b/k.tif"
    assert gdal_filename("file:///data/x.tif") == "/data/x.tif"


def test_hostile_documents_are_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.vrt"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><VRTDataset>&a;</VRTDataset>')
    with pytest.raises(VrtFormatError, match="DOCTYPE"):
        open_vrt(bomb)
    junk = tmp_path / "junk.vrt"
    junk.write_text("<VRTDataset rasterXSize='1'")
    with pytest.raises(VrtFormatError, match="not well-formed"):
        open_vrt(junk)


# ------------------------------------------------------------------------------------------------ writing


def _write_and_compare(ds, tmp_path: Path, name: str = "data", **kwargs) -> dict:
    """Write VRTs from the virtual dataset; each opens in rasterio with the cube's CRS, transform and pixels,
    and reads back through VirtualVRT to the same pixels."""

    written = write_vrts(ds, tmp_path / "vrt", make_registry(), variable=name, **kwargs)
    got = read_cube(ds, name)
    crs = CRS.from_wkt(ds["spatial_ref"].attrs["crs_wkt"])
    gt = [float(v) for v in ds["spatial_ref"].attrs["GeoTransform"].split()]
    lead = [d for d in ds[name].dims[:-2] if d != "band"]
    for i, path in enumerate(written.values()):
        want = got[i] if lead else got
        with rasterio.open(path) as src:
            assert src.crs == crs
            assert src.transform == rasterio.Affine.from_gdal(*gt)
            pixels = src.read()
        np.testing.assert_array_equal(pixels, want if want.ndim == 3 else want[None], strict=True)
        back = open_vrt(path, mask_and_scale=False)["0"].values
        np.testing.assert_array_equal(back if back.ndim == 3 else back[None], pixels)
    return written


def test_vrt_per_time_step_of_a_stitched_cube(tmp_path: Path) -> None:
    paths = write_cube_grid(tmp_path / "src", 2, 3, ("20240101", "20240201"), nodata=0)
    cube = open_virtual_cube(paths, make_registry(), stack_values=r"scene_(\d{8})_", stack_format="%Y%m%d")
    written = _write_and_compare(cube.dataset, tmp_path)
    assert [p.name for p in written.values()] == ["data_2024-01-01.vrt", "data_2024-02-01.vrt"]
    with rasterio.open(next(iter(written.values()))) as src:
        assert src.nodata == 0
        assert len(src.files) == 1 + 6  # the VRT and its six tiles, by absolute path


def test_vrt_of_a_cropped_cube_uses_source_windows(tmp_path: Path) -> None:
    paths = write_cube_grid(tmp_path / "src", 2, 3)
    bbox = (CUBE_X0 + 70 * CUBE_RES, CUBE_Y0 - 75 * CUBE_RES, CUBE_X0 + 100 * CUBE_RES, CUBE_Y0 - 10 * CUBE_RES)
    cube = open_virtual_cube(paths, make_registry(), bbox=bbox)
    written = _write_and_compare(cube.dataset, tmp_path)
    text = next(iter(written.values())).read_text()
    # the window is x 64..128 (all of file column 1), y 0..96 (file row 0 whole, the top half of row 1)
    assert f'<SrcRect xOff="0" yOff="0" xSize="64" ySize="{BLOCK}" />' in text


@pytest.mark.parametrize("layout", ["pixel", "band-selection", "band-files"])
def test_vrt_bands_of_a_cube(tmp_path: Path, layout: str) -> None:
    if layout == "pixel":
        cube = open_virtual_cube(write_cube_grid(tmp_path / "src", 1, 2, count=3, interleave="pixel"), make_registry())
    elif layout == "band-selection":
        cube = open_virtual_cube(write_cube_grid(tmp_path / "src", 1, 2, count=3, interleave="band"), make_registry(),
                                 bands=[3, 1])
    else:
        paths = []
        for i, band in enumerate(("B08", "B02", "B04")):
            paths.append(tmp_path / f"T33_{band}.tif")
            write_tile(paths[-1], 0, 0, step=i)
        cube = open_virtual_cube(paths, make_registry(), stack_dim="band", stack_values=r"_(B\d\d)\.tif$")
    assert cube.dataset["data"].dims == ("band", "y", "x")
    written = _write_and_compare(cube.dataset, tmp_path)
    assert len(written) == 1
    if layout == "band-selection":
        text = next(iter(written.values())).read_text()
        assert "<SourceBand>3</SourceBand>" in text and "<SourceBand>1</SourceBand>" in text


def test_vrt_of_an_overview_level_points_at_that_ifd(tmp_path: Path) -> None:
    paths = write_cube_grid(tmp_path / "src", 1, 1, size=(256, 192))
    with rasterio.Env(GDAL_TIFF_OVR_BLOCKSIZE=64), rasterio.open(paths[0], "r+") as dst:
        dst.build_overviews([2], rasterio.enums.Resampling.nearest)
    cube = open_virtual_cube(paths, make_registry(), overview_level=0)
    written = _write_and_compare(cube.dataset, tmp_path)
    assert "GTIFF_DIR:2:" in next(iter(written.values())).read_text()


def test_vrt_of_a_single_virtual_tiff(tmp_path: Path) -> None:
    import virtualizarr

    from virtual_geotiff import VirtualTIFF

    tiles, _ = write_grid(tmp_path, rows=1, cols=1, tile_px=96, last_width=70, last_height=50, bands=2)
    url = f"file://{tiles[0]['path']}"
    vds = virtualizarr.open_virtual_dataset(url, registry=make_registry(), parser=VirtualTIFF(ifd=0))
    _write_and_compare(vds, tmp_path, name="0")


def test_vrt_writer_refuses_references_that_are_not_the_files_tiles(tmp_path: Path) -> None:
    ds = open_virtual_cube(write_cube_grid(tmp_path / "src", 1, 2), make_registry()).dataset
    arr = ds["data"].data
    m = arr.manifest
    paths = m._paths.copy()
    paths[0, 0], paths[0, 2] = paths[0, 2], paths[0, 0]  # swap one tile of each file: not one grid per file
    swapped = ManifestArray(metadata=arr.metadata, chunkmanifest=ChunkManifest.from_arrays(
        paths=paths, offsets=m._offsets, lengths=m._lengths, validate_paths=False))
    bad = ds.assign(data=ds["data"].copy(data=swapped))
    with pytest.raises(UnsupportedVrtError):
        write_vrts(bad, tmp_path / "bad", make_registry())


# ------------------------------------------------------------------------------------------------ remote, round trip


def test_vrt_over_http_resolves_sources_next_to_it(tmp_path: Path, http_server) -> None:
    tiles, mosaic = write_grid(tmp_path, rows=2, cols=2)
    vrt = build_vrt(tiles, tmp_path / "mosaic.vrt")  # relativeToVRT="1" names
    reg = http_server.registry()
    store = VirtualVRT()(url=http_server.url_for(vrt), registry=reg)
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)
    np.testing.assert_array_equal(ds["0"].values, mosaic[0])
    assert_matches_rasterio(open_vrt(vrt, mask_and_scale=False), vrt)


def test_s3_vrt_with_vsis3_sources(tmp_path: Path, s3_server) -> None:
    bucket = s3_server.make_bucket()
    tiles, mosaic = write_grid(tmp_path, rows=1, cols=2, last_height=64)
    vrt = build_vrt(tiles, tmp_path / "mosaic.vrt")
    _edit(vrt, 'relativeToVRT="1">tile_', f'relativeToVRT="0">/vsis3/{bucket}/m/tile_', count=2)
    s3_server.upload_dir(bucket, tmp_path, prefix="m")
    store = VirtualVRT()(url=f"s3://{bucket}/m/mosaic.vrt", registry=s3_server.registry(bucket))
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)
    np.testing.assert_array_equal(ds["0"].values, mosaic[0])


def test_open_virtual_dataset_then_write_the_vrt_back(tmp_path: Path) -> None:
    """VirtualVRT through VirtualiZarr's own entry point, then the writer: GDAL reads the same mosaic."""
    import virtualizarr

    tiles, mosaic = write_grid(tmp_path, rows=2, cols=3, bands=2)
    vrt = build_vrt(tiles, tmp_path / "in.vrt", bands=2)
    vds = virtualizarr.open_virtual_dataset(f"file://{vrt}", registry=make_registry(), parser=VirtualVRT())
    assert vds["0"].dims == ("band", "y", "x")
    out = write_vrts(vds, tmp_path / "out", make_registry(), variable="0")
    with rasterio.open(out[None]) as src:
        np.testing.assert_array_equal(src.read(), mosaic)
        assert src.crs == CRS.from_epsg(EPSG) and src.transform == from_origin(X0, Y0, RES, RES)
        assert src.nodata == 0


def test_geographic_crs_axis_order_both_ways(tmp_path: Path) -> None:
    """EPSG:4326 (latitude first in the CRS): GDAL writes dataAxisToSRSAxisMapping="2,1"; the reader honours
    it, refuses an authority-order mapping, and the writer writes it back."""
    import virtualizarr

    from virtual_geotiff import VirtualTIFF

    path = tmp_path / "geo.tif"
    data = np.arange(64 * 96, dtype="int16").reshape(1, 64, 96)
    with rasterio.open(path, "w", driver="GTiff", width=96, height=64, count=1, dtype="int16", crs="EPSG:4326",
                       transform=from_origin(10.0, 50.0, 0.01, 0.01), tiled=True, blockxsize=32,
                       blockysize=32) as dst:
        dst.write(data)
    vrt = tmp_path / "geo.vrt"
    rasterio.shutil.copy(path, vrt, driver="VRT")
    assert 'dataAxisToSRSAxisMapping="2,1"' in vrt.read_text()
    assert_matches_rasterio(open_vrt(vrt, mask_and_scale=False), vrt)
    vds = virtualizarr.open_virtual_dataset(f"file://{path}", registry=make_registry(), parser=VirtualTIFF(ifd=0))
    written = write_vrts(vds, tmp_path / "out", make_registry(), variable="0")[None]
    assert 'dataAxisToSRSAxisMapping="2,1"' in written.read_text()
    with rasterio.open(written) as src, rasterio.open(path) as ref:
        assert src.crs == ref.crs and src.transform == ref.transform
        np.testing.assert_array_equal(src.read(), data)
    _edit(vrt, 'dataAxisToSRSAxisMapping="2,1"', 'dataAxisToSRSAxisMapping="1,2"')
    with pytest.raises(UnsupportedVrtError, match="axis order"):
        open_vrt(vrt)
