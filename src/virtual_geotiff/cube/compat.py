"""Whether scanned files can share one array: same dtype, codec chain, chunk shape, dims and CRS.

Chunks are referenced, never decoded, so one array's chunks must all decode alike; a cube that mixed
them would read wrong values silently. Every disagreement of every file is collected first and raised
as one ``IncompatibleSourcesError``, so a bad batch is fixed in one pass.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..arrays.planned import PlannedIfd
from ..errors import IncompatibleSourcesError

__all__ = ["add_problem", "check_compatible"]


def add_problem(problems: dict[str, list[str]], url: str, text: str) -> None:
    """Note one problem of ``url`` (the ``problems`` of ``IncompatibleSourcesError.from_problems``)."""
    problems.setdefault(url, []).append(text)


def check_compatible(entries: list[PlannedIfd]) -> None:
    """Same dtype/codecs/chunks/dims and same CRS/raster convention for every file, or a listed error."""
    first = entries[0]
    problems: dict[str, list[str]] = {}
    names = PlannedIfd.DECODE_KEY_LABELS
    for e in entries[1:]:
        if e.decode_key != first.decode_key:
            for label, a, b in zip(names, e.decode_key, first.decode_key):
                if a != b:
                    add_problem(problems, e.url, f"{label} {_short(a)} (expected {_short(b)} as in {first.url})")
        if e.grid_key != first.grid_key:
            crs, point = e.grid_key.rsplit("|", 1)
            crs0, point0 = first.grid_key.rsplit("|", 1)
            if crs != crs0:
                add_problem(problems, e.url, f"CRS {_crs_name(crs)} (expected {_crs_name(crs0)} as in {first.url})")
            if point != point0:
                add_problem(problems, e.url, f"raster type {'PixelIsPoint' if 'True' in point else 'PixelIsArea'} "
                                             f"differs from {first.url}")
        if (e.transform is None) != (first.transform is None):
            add_problem(problems, e.url, "is not georeferenced" if e.transform is None else
                        f"is georeferenced while {first.url} is not")
    if problems:
        raise IncompatibleSourcesError.from_problems(
            "cannot combine these files into one cube", problems,
            "every file must share dtype, codec chain, chunk shape and CRS; rewrite the odd ones out "
            "(gdal_translate / gdalwarp) or leave them out")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 200 else text[:200] + "..."


def _crs_name(wkt: str) -> str:
    if not wkt:
        return "none"
    m = re.match(r'\w+\["([^"]*)"', wkt)
    return repr(m.group(1)) if m else wkt[:60]
