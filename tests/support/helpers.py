"""Shared helpers of the TIFF tests: describe a TIFF case, write it with tifffile, read it back.

A ``Case`` names one combination of TIFF features (sample dtype, samples per pixel, planar
configuration, strips or tiles, compression, predictor, byte order, BigTIFF). ``write_case`` writes it
into a temporary directory with tifffile; ``open_virtual`` reads one IFD through ``VirtualTIFF`` and
``xr.open_zarr``; ``expected_array`` is tifffile's own decode of the same IFD in our ``(band, y, x)``
order. The test compares the two exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import obstore
import pytest
import tifffile
import xarray as xr
import zarr
from obspec_utils.registry import ObjectStoreRegistry

from virtual_geotiff import VirtualTIFF
from virtual_geotiff._sync import run_sync
from virtual_geotiff.limits import Limits
from virtual_geotiff.tiff.headers import read_header
from virtual_geotiff.tiff.reader import TiffHeader

#: Image sizes: 37 rows and 53 columns leave partial edge tiles (16 x 16) and a short last strip (8 rows).
HEIGHT, WIDTH = 37, 53
#: Height of the "strips" layout: a multiple of ROWS_PER_STRIP, so no strip is short.
EVEN_HEIGHT = 48
ROWS_PER_STRIP = 8
TILE = (16, 16)

#: Layouts: "strips" (height divisible by RowsPerStrip), "strips-partial" (short last strip),
#: "strip-single" (one strip holding the whole image), "tiles" (16 x 16 tiles with partial edge tiles).
LAYOUTS = ("strips", "strips-partial", "strip-single", "tiles")


def make_registry() -> ObjectStoreRegistry:
    return ObjectStoreRegistry({"file://": obstore.store.LocalStore()})


def file_url(path: Path | str) -> str:
    return "file://" + str(path)


@dataclass(frozen=True)
class Case:
    """One TIFF written by tifffile. ``samples`` > 1 with ``planar="separate"`` stores one plane per band."""

    dtype: str
    compression: str | None = None
    layout: str = "tiles"
    samples: int = 1
    planar: str = "contig"
    predictor: int = 1
    byteorder: str = "<"
    bigtiff: bool = False
    compressionargs: tuple[tuple[str, Any], ...] = ()
    photometric: str | None = None  # default: minisblack for 1 sample, rgb for 3 and 4 (4: + alpha)
    subsampling: tuple[int, int] | None = None  # JPEG YCbCr
    nan: bool = True  # sprinkle NaN/inf into float data
    rowsperstrip: int = ROWS_PER_STRIP  # JPEG YCbCr 2x2 subsampling needs strips of 16 rows
    expect_compression_tag: int | None = None  # assert the Compression tag tifffile wrote
    marks: tuple[Any, ...] = field(default=(), compare=False)

    @property
    def id(self) -> str:
        parts = [self.dtype, self.compression or "none", self.layout]
        if self.samples > 1:
            parts.append(f"s{self.samples}{self.planar[:3]}")
        if self.photometric:
            parts.append(self.photometric)
        if self.subsampling:
            parts.append("sub" + "".join(map(str, self.subsampling)))
        if self.predictor != 1:
            parts.append(f"pred{self.predictor}")
        if self.byteorder == ">":
            parts.append("be")
        if self.bigtiff:
            parts.append("bigtiff")
        parts.extend(f"{k}={v}" for k, v in self.compressionargs)
        return "-".join(parts)

    def param(self) -> Any:
        return pytest.param(self, id=self.id, marks=list(self.marks))

    @property
    def height(self) -> int:
        return EVEN_HEIGHT if self.layout == "strips" else HEIGHT

    @property
    def plane_shape(self) -> tuple[int, ...]:
        """Shape of the (band, y, x) or (y, x) array the case holds."""
        if self.samples == 1:
            return (self.height, WIDTH)
        return (self.samples, self.height, WIDTH)


def sample_data(dtype: str, shape: tuple[int, ...], *, seed: int = 0, nan: bool = True) -> np.ndarray:
    """Random samples over the whole range of ``dtype`` (NaN and +-inf sprinkled into floats)."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)
    if dt.kind == "f":
        scale = 100.0 if dt.itemsize == 2 else 1e4
        data = (rng.standard_normal(shape) * scale).astype(dt)
    elif dt.kind == "c":
        data = (rng.standard_normal(shape) * 1e3 + 1j * rng.standard_normal(shape) * 1e3).astype(dt)
    else:
        raise ValueError(dtype)
    if nan:
        flat = data.reshape(-1)
        flat[:: 97] = np.nan
        flat[5 :: 211] = np.inf
        flat[7 :: 223] = -np.inf
    return data


#: The imagecodecs codec behind each tifffile compression name (a missing encoder skips the case).
_ENCODERS = {
    "zlib": "ZLIB", "deflate": "ZLIB", "adobe_deflate": "ZLIB", "lzw": "LZW", "packbits": "PACKBITS",
    "lzma": "LZMA", "zstd": "ZSTD", "jpeg": "JPEG8", "webp": "WEBP", "jpegxl": "JPEGXL", "png": "PNG",
    "lerc": "LERC", "jpeg2000": "JPEG2K",
}


def require_encoder(compression: str | None, addon: str | None = None) -> None:
    """Skip the test cleanly when the local imagecodecs build cannot encode ``compression``."""
    import imagecodecs

    for name in (compression, addon):
        if name is None:
            continue
        codec = getattr(imagecodecs, _ENCODERS[name], None)
        if codec is None or not codec.available:
            pytest.skip(f"the installed imagecodecs cannot encode {name}")


def tiff_kwargs(case: Case) -> dict[str, Any]:
    """The ``tifffile.imwrite`` keywords that write ``case``."""
    kwargs: dict[str, Any] = {
        "byteorder": case.byteorder,
        "bigtiff": case.bigtiff,
        "compression": case.compression,
    }
    if case.compressionargs:
        kwargs["compressionargs"] = dict(case.compressionargs)
    if case.predictor != 1:
        kwargs["predictor"] = case.predictor
    if case.layout == "tiles":
        kwargs["tile"] = TILE
    elif case.layout == "strip-single":
        kwargs["rowsperstrip"] = case.height
    else:
        kwargs["rowsperstrip"] = case.rowsperstrip
    photometric = case.photometric
    if case.samples == 1:
        photometric = photometric or "minisblack"
    else:
        photometric = photometric or ("rgb" if case.samples in (3, 4) else "minisblack")
        kwargs["planarconfig"] = case.planar
        if photometric == "rgb" and case.samples == 4:
            kwargs["extrasamples"] = ("unassalpha",)
        elif photometric == "minisblack" and case.samples > 1:
            kwargs["extrasamples"] = ("unspecified",) * (case.samples - 1)
    if case.subsampling is not None:
        kwargs["subsampling"] = case.subsampling
    kwargs["photometric"] = photometric
    return kwargs


def write_case(case: Case, path: Path) -> np.ndarray:
    """Write ``case`` to ``path``; returns the (band, y, x) data handed to tifffile."""
    data = sample_data(case.dtype, case.plane_shape, nan=case.nan)
    stored = data
    if case.samples > 1 and case.planar == "contig":
        stored = np.moveaxis(data, 0, -1)  # tifffile wants (y, x, samples) for chunky data
    require_encoder(case.compression, dict(case.compressionargs).get("compression"))
    tifffile.imwrite(path, np.ascontiguousarray(stored), **tiff_kwargs(case))
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        assert page.samplesperpixel == case.samples
        assert page.is_tiled == (case.layout == "tiles")
        assert page.predictor == case.predictor
        assert tif.byteorder == case.byteorder
        assert tif.is_bigtiff == case.bigtiff
        stored_photometric = dict(case.compressionargs).get("outcolorspace")
        if stored_photometric is None and case.compression == "jpeg" and case.subsampling:
            stored_photometric = "ycbcr"  # tifffile converts RGB to YCbCr unless told otherwise
        if stored_photometric is not None:
            assert page.photometric.name == stored_photometric.upper()
        if case.expect_compression_tag is not None:
            assert page.tags["Compression"].value == case.expect_compression_tag
        if case.samples > 1:
            want = tifffile.PLANARCONFIG.SEPARATE if case.planar == "separate" else tifffile.PLANARCONFIG.CONTIG
            assert page.planarconfig == want
        if case.layout == "strips-partial":
            assert page.rowsperstrip == case.rowsperstrip and page.imagelength % case.rowsperstrip != 0
        if case.layout == "strips":
            assert page.rowsperstrip == case.rowsperstrip and page.imagelength % case.rowsperstrip == 0
    return data


def expected_array(path: Path | str, key: int = 0) -> np.ndarray:
    """tifffile's decode of IFD ``key`` as ``(y, x)`` or ``(band, y, x)``."""
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[key]
        data = page.asarray()
        if page.samplesperpixel > 1 and page.planarconfig == tifffile.PLANARCONFIG.CONTIG:
            data = np.moveaxis(data, -1, 0)
    return data


def open_virtual(path: Path | str, parser: VirtualTIFF | None = None, **open_kwargs: Any) -> xr.Dataset:
    store = (parser or VirtualTIFF())(url=file_url(path), registry=make_registry())
    return xr.open_zarr(store, zarr_format=3, consolidated=False, **open_kwargs)


def read_local_header(path: Path | str, limits: Limits | None = None) -> TiffHeader:
    """The parsed header of a local file, read as the parser reads it (``file://`` URL, local registry)."""
    return run_sync(read_header(file_url(path), make_registry(), limits or Limits()))


def read_array(path: Path | str, registry: ObjectStoreRegistry | None = None, name: str = "0",
               **parser_kwargs: Any) -> np.ndarray:
    """The decoded array ``name`` of ``path``, read through ``VirtualTIFF(**parser_kwargs)`` and zarr alone (no
    xarray decoding: no masking or scaling), so a test compares exactly the stored samples."""
    store = VirtualTIFF(**parser_kwargs)(url=file_url(path), registry=registry or make_registry())
    return zarr.open_group(store, mode="r", zarr_format=3)[name][...]


def assert_same(actual: xr.DataArray, expected: np.ndarray) -> None:
    """Exact (NaN-aware) equality, plus dtype, shape and dimension names."""
    dims = ("y", "x") if expected.ndim == 2 else ("band", "y", "x")
    assert actual.dims == dims
    assert actual.dtype == expected.dtype.newbyteorder("=")
    values = actual.values
    np.testing.assert_array_equal(values, expected.astype(expected.dtype.newbyteorder("=")), strict=True)


def sparse_tiles(data: np.ndarray, separate: bool, missing: set[int]) -> Iterator[np.ndarray | None]:
    """``TILE`` tiles of ``data`` ((band, y, x) or (y, x)) in TIFF order, ``None`` where ``missing``."""
    planes = data if separate else [np.moveaxis(data, 0, -1) if data.ndim == 3 else data]
    index = 0
    for plane in planes:
        for y in range(0, plane.shape[0], TILE[0]):
            for x in range(0, plane.shape[1], TILE[1]):
                yield None if index in missing else plane[y : y + TILE[0], x : x + TILE[1]]
                index += 1


def write_sparse(path: Path, dtype: str, compression: str | None, samples: int, planar: str,
                 missing: set[int]) -> np.ndarray:
    """A ``HEIGHT`` x ``WIDTH`` tiled file whose ``missing`` tiles (TIFF order) are absent; returns the (band, y, x)
    or (y, x) data. tifffile writes a ``None`` tile of a tile iterator as offset 0 and byte count 0, which is
    how a sparse file marks a tile that reads as 0."""
    shape = (HEIGHT, WIDTH) if samples == 1 else (samples, HEIGHT, WIDTH)
    data = sample_data(dtype, shape, nan=False)
    stored_shape = shape if samples == 1 or planar == "separate" else (HEIGHT, WIDTH, samples)
    tifffile.imwrite(
        path, sparse_tiles(data, planar == "separate", missing), shape=stored_shape, dtype=dtype, tile=TILE,
        compression=compression, photometric="minisblack" if samples == 1 else "rgb",
        planarconfig=None if samples == 1 else planar,
    )
    return data


def blank_chunks(data: np.ndarray, separate: bool, chunk: tuple[int, int], missing: set[int]) -> np.ndarray:
    """``data`` with every missing chunk (TIFF order) set to 0: what a sparse file must read as."""
    want = data.copy()
    planes = want if (want.ndim == 3 and separate) else [want]
    index = 0
    for plane in planes:
        for y in range(0, plane.shape[-2], chunk[0]):
            for x in range(0, plane.shape[-1], chunk[1]):
                if index in missing:
                    plane[..., y : y + chunk[0], x : x + chunk[1]] = 0
                index += 1
    return want
