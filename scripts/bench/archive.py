"""Generate the benchmark archive once into a cache directory (deterministic: same bytes every time).

- ``cogs/r{row:02d}_c{col:02d}.tif``: a 10 x 20 grid of 1024 x 1024 uint16 DEFLATE COGs (512-px tiles,
  one overview level), adjacent tiles of one UTM grid, so the 200 files stitch into one 10240 x 20480 cube.
- ``many/f{i:05d}.tif``: symlinks to those 200 files, repeated, for the 2000-file latency runs.
- ``big.tif``: a 10980 x 10980 uint16 DEFLATE + Predictor=2 COG with 1024-px tiles (a Sentinel-2 tile).
- ``small_tiles.tif``: the same raster with 256-px tiles (1849 tiles in the full-resolution IFD).
- ``late_ifds.tif``: a GeoTIFF with an internal mask and overviews added after the pixels (late IFDs).
- ``stack/t{i:04d}.tif``: 541 symlinks to it: stacked, 541 x 1849 = 1,000,309 chunk references.

``--smoke`` archives are tiny versions of the same shapes (the code paths, not the numbers, are tested).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

CRS = "EPSG:32633"
PIXEL = 10.0
ORIGIN = (300000.0, 5000000.0)


@dataclass(frozen=True)
class Spec:
    rows: int = 10
    cols: int = 20
    cog_size: int = 1024
    cog_block: int = 512
    many: int = 2000
    big_size: int = 10980
    big_block: int = 1024
    small_block: int = 256
    #: Symlinks to ``small_tiles.tif`` stacked into the Icechunk and 1,000,000-chunk memory cubes.
    stack: int = 541

    @classmethod
    def smoke(cls) -> Spec:
        return cls(rows=2, cols=3, cog_size=256, cog_block=128, many=24, big_size=1100, big_block=256,
                   small_block=128, stack=4)


def _terrain(height: int, width: int, seed: int) -> np.ndarray:
    """Smooth hills plus noise: compresses like real imagery (neither constant nor random)."""
    rng = np.random.default_rng(seed)
    y = np.linspace(0, 6 * np.pi, height, dtype=np.float32)[:, None]
    x = np.linspace(0, 6 * np.pi, width, dtype=np.float32)[None, :]
    phase = np.float32(seed % 17)
    hills = 2000 + 800 * np.sin(y + phase) * np.cos(x * 0.7 - phase)
    noise = rng.integers(0, 64, (height, width), dtype=np.uint16)
    return (hills.astype(np.uint16) + noise).astype(np.uint16)


def _write_cog(path: Path, data: np.ndarray, left: float, top: float, block: int, predictor: int = 1) -> None:
    import rasterio
    from rasterio.transform import from_origin

    tmp = path.with_suffix(".tmp.tif")
    profile = dict(driver="COG", width=data.shape[1], height=data.shape[0], count=1, dtype="uint16", crs=CRS,
                   transform=from_origin(left, top, PIXEL, PIXEL), compress="DEFLATE", blocksize=block,
                   predictor=predictor, overviews="AUTO", nodata=0)
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data, 1)
    os.replace(tmp, path)


def _ensure_late_ifds(path: Path, size: int) -> None:
    """A GeoTIFF whose mask and overview IFDs sit after the pixels (GDAL internal mask, overviews added later)."""
    if path.exists():
        return
    import rasterio
    from rasterio.transform import from_origin

    data = _terrain(size, size, 7)
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        with rasterio.open(tmp, "w", driver="GTiff", width=size, height=size, count=1, dtype="uint16", crs=CRS,
                           transform=from_origin(*ORIGIN, PIXEL, PIXEL), compress="DEFLATE", tiled=True,
                           blockxsize=256, blockysize=256) as dst:
            dst.write(data, 1)
            dst.write_mask(data > 2100)
        with rasterio.open(tmp, "r+") as dst:
            dst.build_overviews([2, 4])
    os.replace(tmp, path)


def ensure_archive(root: Path, spec: Spec, log=print) -> dict:
    """Create whatever is missing under ``root``; returns a description of the archive."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = root / "archive.json"
    _ensure_late_ifds(root / "late_ifds.tif", spec.cog_size)
    if stamp.exists() and json.loads(stamp.read_text()).get("spec") == asdict(spec):
        return json.loads(stamp.read_text())
    log(f"generating the benchmark archive in {root} (once) ...")
    cogs = root / "cogs"
    cogs.mkdir(exist_ok=True)
    names = []
    for r in range(spec.rows):
        for c in range(spec.cols):
            path = cogs / f"r{r:02d}_c{c:02d}.tif"
            names.append(path.name)
            if not path.exists():
                left = ORIGIN[0] + c * spec.cog_size * PIXEL
                top = ORIGIN[1] - r * spec.cog_size * PIXEL
                _write_cog(path, _terrain(spec.cog_size, spec.cog_size, r * spec.cols + c), left, top,
                           spec.cog_block)
    many = root / "many"
    many.mkdir(exist_ok=True)
    for i in range(spec.many):
        link = many / f"f{i:05d}.tif"
        if not link.is_symlink():
            link.symlink_to(Path("..") / "cogs" / names[i % len(names)])
    if not (root / "big.tif").exists() or not (root / "small_tiles.tif").exists():
        big = _terrain(spec.big_size, spec.big_size, 999)
        _write_cog(root / "big.tif", big, *ORIGIN, spec.big_block, predictor=2)
        _write_cog(root / "small_tiles.tif", big, *ORIGIN, spec.small_block, predictor=2)
    stack = root / "stack"
    stack.mkdir(exist_ok=True)
    for i in range(spec.stack):
        link = stack / f"t{i:04d}.tif"
        if not link.is_symlink():
            link.symlink_to(Path("..") / "small_tiles.tif")
    info = {"spec": asdict(spec), "cogs": [f"cogs/{n}" for n in names],
            "many": [f"many/f{i:05d}.tif" for i in range(spec.many)],
            "stack": [f"stack/t{i:04d}.tif" for i in range(spec.stack)]}
    stamp.write_text(json.dumps(info))
    return info
