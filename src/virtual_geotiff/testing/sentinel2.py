"""A small Sentinel-2-L2A-like archive for tests, benchmarks and the docs: per-band COGs and STAC items.

Layout (what real L2A archives look like, shrunk): tiles in two UTM zones (31 and 32 at 51 deg N, next to
each other), dates five days apart, per tile and date one COG per band: ``B02 B03 B04 B08`` at 10 m,
``B11`` and the scene classification ``SCL`` (uint8, nodata 0) at 20 m, each with an internal overview.
Reflectances are uint16 with a smooth field plus noise, so quick-looks show structure. A static STAC
catalog (``catalog.json`` -> collection -> one ``item.json`` per tile and date, written with pystac as a
self-contained catalog: every href relative) sits next to the files, with the ``proj:`` fields
(``proj:code``, ``proj:shape``, ``proj:transform``) on every asset and ``eo:cloud_cover``/``platform``
on every item. ``items.json`` holds the same items as one FeatureCollection.

Sizes are parameters; the defaults keep a full archive (2 tiles x 3 dates x 6 bands = 36 files) under
half a megabyte so tests stay fast.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["BANDS_10M", "BANDS_20M", "DEFAULT_TILES", "Archive", "Tile", "make_archive", "tile_row"]

BANDS_10M = ("B02", "B03", "B04", "B08")
BANDS_20M = ("B11", "SCL")
COLLECTION = "sentinel-2-l2a-mini"
PROJECTION_EXTENSION = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
EO_EXTENSION = "https://stac-extensions.github.io/eo/v1.1.0/schema.json"
COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"


@dataclass(frozen=True)
class Tile:
    """One MGRS-like tile: its name, EPSG code and top-left corner (metres, on a 60 m grid as in S2)."""

    name: str
    epsg: int
    x0: float
    y0: float


#: Two tiles either side of the 6 deg E zone boundary near 51 N: EPSG:32631 and EPSG:32632.
DEFAULT_TILES = (Tile("31UGS", 32631, 699960.0, 5700000.0), Tile("32ULB", 32632, 300000.0, 5700000.0))


def tile_row(count: int, size: int = 128, epsg: int = 32631) -> tuple[Tile, ...]:
    """``count`` tiles side by side in one UTM zone (west to east, touching: they stitch into one grid)."""
    return tuple(Tile(f"{epsg % 100}U{i:03d}", epsg, 600000.0 + i * size * 10.0, 5700000.0) for i in range(count))


@dataclass
class Archive:
    """What ``make_archive`` wrote: paths, and per file the values rasterio reads (for comparisons)."""

    root: Path
    catalog: Path
    items_json: Path
    items: list[Any]  # pystac.Item
    files: dict[tuple[str, str, str], Path] = field(default_factory=dict)  #: (tile, date, band) -> path

    @property
    def dates(self) -> list[str]:
        return sorted({d for _, d, _ in self.files})

    @property
    def tiles(self) -> list[str]:
        return sorted({t for t, _, _ in self.files})


def _field(rng: np.random.Generator, shape: tuple[int, int], base: float, amplitude: float) -> np.ndarray:
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    phase = rng.uniform(0, 2 * np.pi, 2)
    smooth = np.sin(2 * np.pi * xx + phase[0]) * np.cos(2 * np.pi * yy * 1.5 + phase[1])
    noise = rng.normal(0, amplitude * 0.05, shape)
    return np.clip(base + amplitude * smooth + noise, 1, 10000).astype(np.uint16)


def _scl(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Scene classes 4 (vegetation), 5 (bare), 6 (water), 8/9 (cloud) and 0 (nodata) in a band at the top."""
    h, w = shape
    classes = rng.choice(np.array([4, 5, 6, 8, 9], dtype=np.uint8), size=(h // 8 + 1, w // 8 + 1),
                         p=[0.5, 0.2, 0.1, 0.1, 0.1])
    out = np.kron(classes, np.ones((8, 8), dtype=np.uint8))[:h, :w].copy()
    out[: max(1, h // 16)] = 0  # a nodata strip, as at a swath edge
    return out


def _write_cog(path: Path, data: np.ndarray, epsg: int, transform: Any, blocksize: int, nodata: int | None,
               predictor: int) -> None:
    """A COG as GDAL made them before its COG driver (which refuses blocks under 128 pixels): overviews built
    in memory, then copied with ``COPY_SRC_OVERVIEWS`` so the file is tiled with overviews first."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.shutil import copy

    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = data.shape
    with rasterio.open("/vsimem/s2.tif", "w", driver="GTiff", width=w, height=h, count=1, dtype=data.dtype.name,
                       crs=f"EPSG:{epsg}", transform=transform, nodata=nodata) as mem:
        mem.write(data, 1)
        mem.build_overviews([2], Resampling.nearest)
    copy("/vsimem/s2.tif", path, driver="GTiff", tiled=True, blockxsize=blocksize, blockysize=blocksize,
         compress="DEFLATE", predictor=predictor, copy_src_overviews=True)
    rasterio.shutil.delete("/vsimem/s2.tif")


def _footprint(tile: Tile, size_m: float) -> tuple[dict[str, Any], list[float]]:
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(tile.epsg, 4326, always_xy=True)
    xs = [tile.x0, tile.x0 + size_m, tile.x0 + size_m, tile.x0, tile.x0]
    ys = [tile.y0, tile.y0, tile.y0 - size_m, tile.y0 - size_m, tile.y0]
    lon, lat = to_lonlat.transform(xs, ys)
    ring = [[round(a, 7), round(b, 7)] for a, b in zip(lon, lat)]
    return {"type": "Polygon", "coordinates": [ring]}, [min(lon), min(lat), max(lon), max(lat)]


def make_archive(root: str | Path, *, tiles: tuple[Tile, ...] = DEFAULT_TILES, dates: int = 3,
                 size: int = 128, blocksize: int = 64, start: datetime = datetime(2024, 6, 1, 10, 30, tzinfo=UTC),
                 seed: int = 0, predictor: int = 1, bands_10m: tuple[str, ...] = BANDS_10M,
                 bands_20m: tuple[str, ...] = BANDS_20M) -> Archive:
    """Write the archive under ``root``; ``size`` is the 10 m tile width in pixels (20 m bands: half).

    ``predictor=1`` (default) keeps every codec portable (DEFLATE only: ``numcodecs.zlib``), so a reader
    without virtual-geotiff decodes the published cube; ``predictor=2`` is what real L2A COGs use.

    ``size`` and ``size // 2`` must be multiples of ``blocksize`` and ``blocksize // 2`` (whole tiles)."""
    import pystac
    from rasterio.transform import from_origin

    if size % blocksize or (size // 2) % (blocksize // 2):
        raise ValueError(f"size {size} must be a multiple of blocksize {blocksize}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    catalog = pystac.Catalog(id="s2-mini", description="A small Sentinel-2 L2A-like archive (generated)")
    size_m = size * 10.0
    collection = pystac.Collection(
        id=COLLECTION, description="Generated Sentinel-2 L2A-like tiles", license="CC-BY-4.0",
        extent=pystac.Extent(pystac.SpatialExtent([[-180, -90, 180, 90]]),
                             pystac.TemporalExtent([[start, start + timedelta(days=5 * dates)]])))
    catalog.add_child(collection)
    archive = Archive(root=root, catalog=root / "catalog.json", items_json=root / "items.json", items=[])
    for tile in tiles:
        geometry, bbox = _footprint(tile, size_m)
        for d in range(dates):
            when = start + timedelta(days=5 * d, seconds=7 * tiles.index(tile))
            day = when.strftime("%Y%m%d")
            item_id = f"S2B_{tile.name}_{day}"
            item = pystac.Item(id=item_id, geometry=geometry, bbox=bbox, datetime=when,
                               properties={"platform": "sentinel-2b", "constellation": "sentinel-2",
                                           "eo:cloud_cover": round(float(rng.uniform(0, 60)), 2),
                                           "s2:mgrs_tile": tile.name},
                               stac_extensions=[PROJECTION_EXTENSION, EO_EXTENSION])
            folder = root / COLLECTION / item_id
            for band in (*bands_10m, *bands_20m):
                res = 10 if band in bands_10m else 20
                n = size if res == 10 else size // 2
                block = blocksize if res == 10 else blocksize // 2
                transform = from_origin(tile.x0, tile.y0, res, res)
                if band == "SCL":
                    data, nodata = _scl(rng, (n, n)), 0
                else:
                    base = {"B02": 600, "B03": 900, "B04": 800, "B08": 3000, "B11": 2000}.get(band, 1500)
                    data, nodata = _field(rng, (n, n), base, base * 0.4), None
                path = folder / f"{band}.tif"
                _write_cog(path, data, tile.epsg, transform, block, nodata, predictor)
                archive.files[(tile.name, day, band)] = path
                item.add_asset(band, pystac.Asset(
                    href=str(path), media_type=COG_MEDIA_TYPE, roles=["data"],
                    extra_fields={"proj:code": f"EPSG:{tile.epsg}", "proj:shape": [n, n],
                                  "proj:transform": list(transform)[:6], "gsd": res}))
            collection.add_item(item)
            archive.items.append(item)
    catalog.normalize_hrefs(str(root))
    catalog.make_all_asset_hrefs_relative()
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    features = []
    for item in archive.items:
        d = item.to_dict(include_self_link=False, transform_hrefs=False)
        for asset in d["assets"].values():  # relative to items.json, at the archive root
            asset["href"] = Path(item.assets[next(iter(item.assets))].get_absolute_href() or "").parent.relative_to(
                root).as_posix() + "/" + Path(asset["href"]).name
        d["links"] = []
        features.append(d)
    archive.items_json.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return archive
