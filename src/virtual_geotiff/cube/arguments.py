"""Checks of a cube call's arguments, made before any file is read: a typo should cost no header reads.

Each check raises ``InvalidArgumentError`` naming the argument and the value it got.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from ..errors import InvalidArgumentError
from ..urls import normalize_url

__all__ = ["OnError", "check_batch_size", "check_bbox", "check_on_error", "check_overview_level", "normalize_urls"]

#: What to do with files that cannot be read: list them all in one error, or build from the others.
OnError = Literal["raise", "skip"]


def check_on_error(on_error: Any) -> None:
    if on_error not in ("raise", "skip"):
        raise InvalidArgumentError(f"on_error must be 'raise' or 'skip', got {on_error!r}")


def check_overview_level(overview_level: Any) -> None:
    if overview_level is not None and (not isinstance(overview_level, int) or overview_level < 0):
        raise InvalidArgumentError(f"overview_level must be None or a non-negative int, got {overview_level!r}")


def check_bbox(bbox: Sequence[float] | None) -> tuple[float, ...] | None:
    """``bbox`` as a tuple of floats ``(minx, miny, maxx, maxy)``."""
    if bbox is None:
        return None
    bbox = tuple(float(v) for v in bbox)
    if len(bbox) != 4 or not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
        raise InvalidArgumentError(f"bbox must be (minx, miny, maxx, maxy) with min < max, got {bbox!r}")
    return bbox


def check_batch_size(batch_size: Any) -> None:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidArgumentError(f"batch_size must be a positive int, got {batch_size!r}")


def normalize_urls(urls: Iterable[str | os.PathLike[str]]) -> list[str]:
    """The URLs in the registry's spelling (``manifest.normalize_url``); one string instead of a list, an
    empty list and a file listed twice are errors (a duplicate would be an overlap of a file with itself)."""
    if isinstance(urls, str | os.PathLike):
        raise InvalidArgumentError("urls must be a sequence of URLs or paths, not one string")
    out = [normalize_url(os.fspath(u)) for u in urls]
    if not out:
        raise InvalidArgumentError("urls is empty: a cube needs at least one file")
    dupes = sorted({u for u in out if out.count(u) > 1}) if len(set(out)) != len(out) else []
    if dupes:
        raise InvalidArgumentError(f"urls lists these files more than once: {', '.join(dupes[:5])}")
    return out
