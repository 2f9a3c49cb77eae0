"""The cube's pixel grid: where each file sits on it, the window a ``bbox`` selects, and blocks cut to it.

Every file must lie on one north-up grid: same resolution, origins an integral number of pixels apart.
The cube's transform is the top-left file's; each file's pixel offset follows. Files that do not fit are
listed with what differs (``IncompatibleSourcesError``). Nothing is ever resampled or mosaicked:
overlapping files are an error, not a blend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..arrays.planned import PlannedIfd
from ..errors import IncompatibleSourcesError, InvalidArgumentError
from ..geo.transform import GeoTransform
from ..stitch import Block
from .compat import add_problem

__all__ = ["PIXEL_TOLERANCE", "RESOLUTION_TOLERANCE", "Grid", "bbox_window", "check_one_per_position",
           "crop_block", "place_on_grid", "window_transform"]

#: Origins closer than this fraction of a pixel to the grid count as on it (float noise in tie points).
PIXEL_TOLERANCE = 1e-4
#: Resolutions equal to this relative precision are the same.
RESOLUTION_TOLERANCE = 1e-9

#: A pixel window ``(row0, row1, col0, col1)`` on the grid.
Window = tuple[int, int, int, int]


@dataclass(frozen=True)
class Grid:
    """The cube's pixel grid: its transform (pixel corners, GDAL order) and size."""

    transform: GeoTransform | None
    height: int
    width: int


def place_on_grid(entries: list[PlannedIfd], grid: Grid | None = None) -> tuple[Grid, list[tuple[int, int]]]:
    """The common grid and each file's pixel (row, col) on it; lists files off the grid.

    ``grid``: place the files on this grid (computed from a larger set of files, e.g. every band of a
    resolution group, so that the group's variables share x/y) instead of the files' own bounding grid."""
    first = entries[0]
    if first.transform is None:
        return Grid(None, max(e.layout.shape[-2] for e in entries), max(e.layout.shape[-1] for e in entries)), \
            [(0, 0)] * len(entries)
    ref = first.transform if grid is None or grid.transform is None else grid.transform
    a0, e0 = ref.a, ref.e
    problems: dict[str, list[str]] = {}
    for e in entries:
        t = e.transform
        assert t is not None  # check_compatible: all georeferenced or none
        a, ee = t.a, t.e
        if not t.is_north_up:
            add_problem(problems, e.url, f"rotated/sheared grid (GeoTransform {t})")
        if abs(a - a0) > RESOLUTION_TOLERANCE * abs(a0) or abs(ee - e0) > RESOLUTION_TOLERANCE * abs(e0):
            add_problem(problems, e.url, f"resolution ({a}, {ee}) (expected ({a0}, {e0}) as in {first.url})")
    if problems:
        raise IncompatibleSourcesError.from_problems("cannot place these files on one grid", problems)
    cs = np.array([e.transform.c for e in entries])  # type: ignore[union-attr]
    fs = np.array([e.transform.f for e in entries])  # type: ignore[union-attr]
    x0 = cs.min() if a0 > 0 else cs.max()
    y0 = fs.max() if e0 < 0 else fs.min()
    if grid is not None and grid.transform is not None:
        x0, y0 = grid.transform.c, grid.transform.f
    cols = (cs - x0) / a0
    rows = (fs - y0) / e0
    icols, irows = np.rint(cols).astype(np.int64), np.rint(rows).astype(np.int64)
    off = np.maximum(np.abs(cols - icols), np.abs(rows - irows))
    for i in np.nonzero(off > PIXEL_TOLERANCE)[0]:
        add_problem(problems, entries[i].url, f"origin is {off[i]:.4g} pixel off the grid of {first.url} "
                                              "(same resolution, but not an integral number of pixels apart)")
    if problems:
        raise IncompatibleSourcesError.from_problems("cannot place these files on one grid", problems,
                                                     "virtual-geotiff stitches, it never resamples")
    height = int(max(r + e.layout.shape[-2] for r, e in zip(irows, entries)))
    width = int(max(c + e.layout.shape[-1] for c, e in zip(icols, entries)))
    if grid is not None and grid.transform is not None:
        if irows.min() < 0 or icols.min() < 0 or height > grid.height or width > grid.width:
            raise InvalidArgumentError(f"internal: files reach outside the given grid {grid}")
        return grid, list(zip(irows.tolist(), icols.tolist()))
    transform = GeoTransform(float(x0), a0, 0.0, float(y0), 0.0, e0)
    return Grid(transform, height, width), list(zip(irows.tolist(), icols.tolist()))


def bbox_window(grid: Grid, bbox: tuple[float, ...] | None, chunks: tuple[int, int]) -> Window:
    """Pixel window ``(row0, row1, col0, col1)`` of ``bbox``, widened to whole chunks (whole grid if None)."""
    if bbox is None:
        return 0, grid.height, 0, grid.width
    if grid.transform is None:
        raise InvalidArgumentError("bbox= needs georeferenced files; these have no transform")
    row0, row1, col0, col1 = grid.transform.pixel_window(bbox)
    ch, cw = chunks
    row0, col0 = max(row0, 0) // ch * ch, max(col0, 0) // cw * cw
    row1 = min(-(-min(row1, grid.height) // ch) * ch, grid.height)
    col1 = min(-(-min(col1, grid.width) // cw) * cw, grid.width)
    if row1 <= row0 or col1 <= col0:
        x_min, y_min, x_max, y_max = grid.transform.bounds(grid.width, grid.height)
        raise InvalidArgumentError(f"bbox {bbox} does not intersect the files' extent "
                                   f"({x_min}, {y_min}, {x_max}, {y_max})")
    return row0, row1, col0, col1


def window_transform(grid: Grid, window: Window) -> GeoTransform | None:
    """The transform of ``window``'s top-left pixel (None on a grid without one)."""
    if grid.transform is None:
        return None
    return grid.transform.window_transform(window[0], window[2])


def crop_block(block: Block, row: int, col: int, window: Window, chunks: tuple[int, int],
               ) -> tuple[Block, int, int] | None:
    """``block`` cut to the pixel window (cut lines fall on chunk boundaries), or None when outside."""
    r0, r1, c0, c1 = window
    h, w = block.shape[-2:]
    top, bottom, left, right = max(row, r0), min(row + h, r1), max(col, c0), min(col + w, c1)
    if bottom <= top or right <= left:
        return None
    if (top, bottom, left, right) == (row, row + h, col, col + w):
        return block, row - r0, col - c0
    ch, cw = chunks
    gy0, gx0 = (top - row) // ch, (left - col) // cw
    gy1, gx1 = -(-(bottom - row) // ch), -(-(right - col) // cw)
    sel = (..., slice(gy0, gy1), slice(gx0, gx1))
    cropped = Block(block.label, (*block.shape[:-2], bottom - top, right - left), block.paths,
                    block.offsets[sel], block.lengths[sel])
    return cropped, top - r0, left - c0


def check_one_per_position(entries: list[PlannedIfd], positions: list[tuple[int, int]], stack_index: list[int],
                           grid: Grid, *, stitching_possible: bool) -> None:
    """Without stitching: one file per stack position, all with the same footprint."""
    problems: dict[str, list[str]] = {}
    seen: dict[int, str] = {}
    first = entries[0]
    for e, pos, s in zip(entries, positions, stack_index):
        if s in seen:
            why = "stitch=False" if stitching_possible else "the files are not georeferenced (nothing to place by)"
            add_problem(problems, e.url, f"shares its stack position with {seen[s]}, but {why}")
        seen.setdefault(s, e.url)
        if pos != (0, 0) or e.layout.shape != first.layout.shape:
            add_problem(problems, e.url, f"footprint differs from {first.url} (shape {e.layout.shape} at pixel "
                                         f"{pos} vs {first.layout.shape} at (0, 0)); stitching is off")
    if problems:
        raise IncompatibleSourcesError.from_problems("cannot stack these files", problems)
