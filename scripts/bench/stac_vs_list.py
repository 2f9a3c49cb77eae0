"""Building a band cube from a local static STAC catalog vs from the same files given as a list.

The STAC path (``stac.open_stac_cube``) reads ``catalog.json`` -> collection -> every item's JSON, resolves
each asset href safely, cross-checks ``proj:`` fields against the headers and keeps properties along time;
the list path (``bands.open_virtual_bands``) takes the same files as ``file://`` URLs, band and time
parsed from each name inside the timed build. Both read the same headers. Reported: seconds per round
(best and median of N, interleaved) and microseconds per file; the catalog walk alone
(``stac.stac_band_files``: items -> band files, no header read) is timed too.

Usage: python scripts/bench/stac_vs_list.py DIR [--tiles 10 --dates 100] [--rounds 3]
DIR is created with ``testing.sentinel2.make_archive`` (tiles x dates items, 4 bands at 10 m) when it holds
no catalog.json yet.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import obstore
from obspec_utils.registry import ObjectStoreRegistry

warnings.filterwarnings("ignore")


def generate(root: Path, tiles: int, dates: int) -> None:
    from virtual_geotiff.testing.sentinel2 import BANDS_10M, make_archive, tile_row

    make_archive(root, tiles=tile_row(tiles), dates=dates, bands_10m=BANDS_10M, bands_20m=())


def list_files(paths: list[str]) -> list:
    """Band and time of each path from its name (what a file-list user writes; timed with the build, as
    ``open_virtual_cube(urls, stack_values=PATTERN)`` parses names inside the build)."""
    from virtual_geotiff.bands import BandFile

    pattern = re.compile(r"_(\d{4})(\d{2})(\d{2})/(\w+)\.tif$")
    files = []
    for path in paths:
        y, m, d, band = pattern.search(path).groups()
        files.append(BandFile(band, path, np.datetime64(f"{y}-{m}-{d}")))
    return files


def from_stac(root: Path) -> object:
    from virtual_geotiff.stac import open_stac_cube

    return open_stac_cube(str(root / "catalog.json"))


def from_list(root: Path, paths: list[str]) -> object:
    from virtual_geotiff.bands import open_virtual_bands

    registry = ObjectStoreRegistry({f"file://{root}": obstore.store.LocalStore()})
    return open_virtual_bands(list_files(paths), registry)


def walk_only(root: Path) -> object:
    from virtual_geotiff.stac import stac_band_files

    return stac_band_files(str(root / "catalog.json"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--tiles", type=int, default=10)
    parser.add_argument("--dates", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = args.dir.resolve()
    if not (root / "catalog.json").exists():
        t0 = time.perf_counter()
        generate(root, args.tiles, args.dates)
        print(f"generated {root} in {time.perf_counter() - t0:.1f} s")
    paths = ["file://" + str(p) for p in sorted(root.glob("*/*/*.tif"))]  # the list as given (URLs)
    n = len(paths)
    items = len({p.rsplit("/", 1)[0] for p in paths})
    cases = {"STAC catalog": lambda: from_stac(root), "file list": lambda: from_list(root, paths),
             "catalog walk only (items -> band files)": lambda: walk_only(root)}
    times: dict[str, list[float]] = {k: [] for k in cases}
    for run in cases.values():  # warm-up, not timed: imports, pyproj databases, first event loop
        run()
    names = list(cases)
    for k in range(args.rounds):
        for name in names[k % len(names):] + names[:k % len(names)]:  # rotate: no case always runs first
            run = cases[name]
            t0 = time.perf_counter()
            result = run()
            times[name].append(time.perf_counter() - t0)
            if hasattr(result, "groups"):
                assert not result.failed and sum(len(ds.data_vars) for ds in result.groups.values()) == 4
    print(f"{items} items, {n} files (4 band assets per item), {args.rounds} rounds")
    print(f"{'case':42s} {'best s':>8s} {'median s':>9s} {'us/file':>8s}")
    for name, ts in times.items():
        best = min(ts)
        print(f"{name:42s} {best:8.3f} {statistics.median(ts):9.3f} {best / n * 1e6:8.1f}")


if __name__ == "__main__":
    main()
