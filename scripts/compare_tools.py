"""Reproduce the "Decoding, checked" table of docs/comparison.md: nine small TIFFs, four tools, IFD 0 each.

Each file is written by GDAL (rasterio) or tifffile into a temporary directory, opened by every tool the way
its documentation shows, and compared with ``rasterio.open(path).read()``. A cell says ``exact`` (equal
arrays), ``differs from GDAL by up to N levels`` (the largest absolute difference; lossy JPEG decoders
disagree at sharp colour edges) or ``error: <type>: <first line of the message>``. A tool that is not
installed gets an error cell too, so the table always has every column.

    python scripts/compare_tools.py [--markdown FILE] [--only KEY,KEY]

Prints the table and the version of every tool; ``--markdown`` also writes both to FILE. Runs in a few
seconds; ``--list`` names the file keys ``--only`` accepts.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

HEIGHT, WIDTH = 300, 400  # 300 rows: 64-row strips leave a short last strip (44 rows)
MAX_MESSAGE = 100
TOOLS = ("virtual-geotiff", "virtual-tiff", "tifffile", "kerchunk")
HEADERS = ("virtual-geotiff", "virtual-tiff {virtual-tiff}", "tifffile `aszarr`", "kerchunk.tiff")
PACKAGES = ("virtual-geotiff", "virtual-tiff", "tifffile", "kerchunk", "rasterio", "zarr", "virtualizarr",
            "xarray", "numcodecs", "imagecodecs", "fsspec", "numpy")


# -- the nine files -----------------------------------------------------------------------------------


def _image(dtype: str, bands: int = 1) -> np.ndarray:
    """Smooth gradients plus noise (compressible, predictor-friendly) with sharp-edged blocks (hard for JPEG)."""
    rng = np.random.default_rng(42)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    planes = []
    for b in range(bands):
        plane = (x * (b + 1) + y * 2) / (WIDTH + 2 * HEIGHT) * 200 + rng.normal(0, 3, (HEIGHT, WIDTH))
        plane[(y // 40 + x // 40 + b) % 3 == 0] = 240 - 110 * b  # blocks of contrasting colour per band
        planes.append(plane)
    data = np.clip(np.stack(planes), 0, 255)
    if dtype == "float32":
        return (data / 7.0).astype("float32")
    if dtype == "uint16":
        return (data * 16).astype("uint16")  # < 4096: fits 12 bits
    return data.astype(dtype)


def _gdal(path: Path, data: np.ndarray, **options: Any) -> None:
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", width=WIDTH, height=HEIGHT, count=data.shape[0], dtype=data.dtype,
                       crs="EPSG:32633", transform=from_origin(500_000, 5_000_000, 10, 10), **options) as dst:
        dst.write(data)


def _cog(path: Path, data: np.ndarray, **options: Any) -> None:
    import rasterio.shutil

    plain = path.with_suffix(".src.tif")
    _gdal(plain, data)
    rasterio.shutil.copy(plain, path, driver="COG", **options)
    plain.unlink()


def _tifffile(path: Path, data: np.ndarray, **options: Any) -> None:
    import tifffile

    tifffile.imwrite(path, data, **options)


@dataclass(frozen=True)
class Case:
    key: str
    label: str  # the table's first column
    write: Callable[[Path], None]


CASES = (
    Case("cog-deflate", "COG, Deflate (GDAL)",
         lambda p: _cog(p, _image("uint16"), compress="DEFLATE", blocksize=256)),
    Case("cog-deflate-pred2", "COG, Deflate + predictor 2 (GDAL)",
         lambda p: _cog(p, _image("uint16"), compress="DEFLATE", predictor=2, blocksize=256)),
    Case("zstd-pred3-float32", "tiled, ZSTD + predictor 3, float32 (GDAL)",
         lambda p: _gdal(p, _image("float32"), driver="GTiff", tiled=True, blockxsize=256, blockysize=256,
                         compress="ZSTD", predictor=3)),
    Case("lzw-planar", "tiled, LZW, 3 bands as separate planes (GDAL)",
         lambda p: _gdal(p, _image("uint16", 3), driver="GTiff", tiled=True, blockxsize=256, blockysize=256,
                         compress="LZW", interleave="band")),
    Case("deflate-rgb-tifffile", "tiled, Deflate, 3-band RGB pixel-interleaved (tifffile)",
         lambda p: _tifffile(p, np.moveaxis(_image("uint8", 3), 0, -1), photometric="rgb", tile=(64, 64),
                             compression="zlib")),
    Case("big-endian-tifffile", "tiled, big-endian (tifffile)",
         lambda p: _tifffile(p, _image("uint16")[0], byteorder=">", tile=(64, 64), compression="zlib")),
    Case("lzw-strips-short", "LZW strips, last strip short (tifffile)",
         lambda p: _tifffile(p, _image("uint16")[0], rowsperstrip=64, compression="lzw")),
    Case("nbits12", "12-bit packed (`NBITS=12`, GDAL)",
         lambda p: _gdal(p, _image("uint16"), driver="GTiff", nbits=12)),
    Case("jpeg-ycbcr", "JPEG, YCbCr, with JPEGTables (GDAL)",
         lambda p: _gdal(p, _image("uint8", 3), driver="GTiff", tiled=True, blockxsize=256, blockysize=256,
                         compress="JPEG", photometric="YCBCR")),
)


# -- the four tools, each reading IFD 0 ----------------------------------------------------------------


def _registry() -> Any:
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore

    return ObjectStoreRegistry({"file://": LocalStore()})


def _through_xarray(parser: Any, path: Path) -> np.ndarray:
    import xarray as xr

    ds = xr.open_zarr(parser(url=path.as_uri(), registry=_registry()), mask_and_scale=False, consolidated=False,
                      zarr_format=3)
    return ds["0"].values


def read_virtual_geotiff(path: Path) -> np.ndarray:
    from virtual_geotiff import VirtualTIFF

    return _through_xarray(VirtualTIFF(ifd=0), path)


def read_virtual_tiff(path: Path) -> np.ndarray:
    from virtual_tiff import VirtualTIFF

    return _through_xarray(VirtualTIFF(ifd=0), path)


def read_tifffile(path: Path) -> np.ndarray:
    import tifffile
    import zarr

    with tifffile.TiffFile(path) as tif, tif.series[0].aszarr(level=0) as store:
        return zarr.open_array(store, mode="r")[...]


def read_kerchunk(path: Path) -> np.ndarray:
    import fsspec
    import imagecodecs.numcodecs
    import kerchunk.tiff
    import zarr
    from zarr.storage import FsspecStore

    imagecodecs.numcodecs.register_codecs(verbose=False)  # a no-op where imagecodecs-numcodecs' entry points did it
    refs = kerchunk.tiff.tiff_to_zarr(str(path))
    fs = fsspec.filesystem("reference", fo=refs, remote_protocol="file", asynchronous=True)
    store = FsspecStore(fs, read_only=True, path="")
    # a pyramid (COG) is a group of levels "0", "1", ...; a single image is an array at the root
    node = zarr.open(store, mode="r", zarr_format=2)
    return (node if isinstance(node, zarr.Array) else node["0"])[...]


READERS: dict[str, Callable[[Path], np.ndarray]] = {
    "virtual-geotiff": read_virtual_geotiff, "virtual-tiff": read_virtual_tiff, "tifffile": read_tifffile,
    "kerchunk": read_kerchunk,
}


# -- comparing -----------------------------------------------------------------------------------------


def as_bands(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Bring a tool's array into rasterio's (band, y, x) order by its axes, never by reshaping."""
    if got.shape == want.shape:
        return got
    if got.ndim == 2:
        return got[None]
    if got.ndim == 3 and got.shape[:2] == want.shape[1:] and got.shape[2] == want.shape[0]:
        return np.moveaxis(got, -1, 0)  # pixel-interleaved (y, x, sample)
    return got


def _levels(value: float) -> str:
    return f"{value:g} level" + ("" if value == 1 else "s")


def verdict(got: np.ndarray, want: np.ndarray, imread: np.ndarray | None, tool: str) -> str:
    got = as_bands(np.asarray(got), want)
    if got.shape != want.shape:
        return f"differs: shape {got.shape}, rasterio {want.shape}"
    if got.dtype != want.dtype:
        return f"differs: dtype {got.dtype}, rasterio {want.dtype}"
    if np.array_equal(got, want, equal_nan=want.dtype.kind == "f"):
        return "exact"
    if want.dtype.kind == "f" and not np.array_equal(np.isnan(got), np.isnan(want)):
        return "differs: NaN at other pixels than rasterio's"
    worst = float(np.nanmax(np.abs(got.astype("float64") - want.astype("float64"))))
    cell = f"differs from GDAL by up to {_levels(worst)}"
    if tool != "tifffile" and imread is not None and np.array_equal(got, as_bands(imread, want)):
        cell += "; equal to `tifffile.imread`"
    return cell


def error_cell(exc: BaseException) -> str:
    """``error: `Type: first line``` (a long first line is cut after its first sentence)."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    if len(first) > MAX_MESSAGE and ". " in first:
        first = first[: first.index(". ") + 1]
    text = f"{type(exc).__name__}: {first}".rstrip(": ")
    return "error: `" + text.replace("`", "'").replace("|", "\\|") + "`"


def check(case: Case, directory: Path) -> dict[str, str]:
    import rasterio
    import tifffile

    path = directory / f"{case.key}.tif"
    case.write(path)
    with rasterio.open(path) as src:
        want = src.read()
    try:
        imread = tifffile.imread(path, level=0)
    except Exception:
        imread = None
    cells = {}
    for tool in TOOLS:
        try:
            cells[tool] = verdict(READERS[tool](path), want, imread, tool)
        except Exception as exc:
            cells[tool] = error_cell(exc)
    return cells


# -- reporting -----------------------------------------------------------------------------------------


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    try:
        import rasterio

        found["GDAL"] = rasterio.__gdal_version__
    except ImportError:
        pass
    return found


def markdown(rows: list[tuple[Case, dict[str, str]]], found: dict[str, str]) -> str:
    head = [h.format(**found) for h in HEADERS]
    lines = ["| File (writer, features) | " + " | ".join(head) + " |", "| --- |" + " --- |" * len(head)]
    above: dict[str, str] = {}
    for case, cells in rows:
        shown = []
        for tool in TOOLS:
            cell = cells[tool]
            repeat = cell.startswith("error:") and above.get(tool) == cell
            shown.append("error: same as above" if repeat else cell)
            above[tool] = cell
        lines.append(f"| {case.label} | " + " | ".join(shown) + " |")
    lines.append("")
    lines.append("Versions: " + ", ".join(f"{k} {v}" for k, v in found.items()))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", type=Path, help="also write the table and versions to this file")
    parser.add_argument("--only", help="comma-separated file keys (see --list)")
    parser.add_argument("--list", action="store_true", help="print the file keys and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(f"{c.key}: {c.label}" for c in CASES))
        return 0
    cases = CASES
    if args.only:
        keys = [k.strip() for k in args.only.split(",") if k.strip()]
        unknown = sorted(set(keys) - {c.key for c in CASES})
        if unknown:
            parser.error(f"unknown file key(s) {', '.join(unknown)}; choose from {', '.join(c.key for c in CASES)}")
        cases = tuple(c for c in CASES if c.key in keys)
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory(prefix="compare_tools_") as tmp:
        rows = [(case, check(case, Path(tmp))) for case in cases]
    text = markdown(rows, versions())
    sys.stdout.write(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
