"""The stack axis of a cube: one coordinate value per file, and each file's position along the axis.

Values come from the caller (a list, a callable of the URL, or a regex on the file name) because a TIFF
header says nothing about time or band names. Files with equal values share a position and are stitched
together there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError

__all__ = ["StackValues", "as_coordinate", "resolve_stack_values", "select_band_files", "stack_dimension",
           "stack_positions"]

StackValues = Sequence[Any] | Callable[[str], Any] | str | None


def _basename(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def stack_dimension(stack_dim: str | None, stack_values: StackValues) -> str | None:
    """The stack dimension's name: ``"time"`` when only values are given; a name without values is an error."""
    if stack_values is not None and stack_dim is None:
        stack_dim = "time"
    if stack_dim is not None and stack_values is None:
        raise InvalidArgumentError(f"stack_dim={stack_dim!r} needs stack_values (a list, callable or pattern)")
    return stack_dim


def resolve_stack_values(urls: Sequence[str], stack_values: StackValues, stack_format: str | None) -> list[Any]:
    """One stack coordinate value per URL: from a list, a callable of the URL, or a regex searched in the
    file name (group ``value``, else group 1, else the whole match), parsed with ``stack_format``
    (``datetime.strptime``) when given."""
    if callable(stack_values):
        values = [stack_values(u) for u in urls]
    elif isinstance(stack_values, str):
        pattern = re.compile(stack_values)
        values, missing = [], []
        for url in urls:
            m = pattern.search(_basename(url))
            if m is None:
                missing.append(url)
                continue
            values.append(m.group("value") if "value" in pattern.groupindex else m.group(1) if m.groups()
                          else m.group(0))
        if missing:
            raise InvalidArgumentError(
                f"stack_values pattern {stack_values!r} matches no part of the file name of {len(missing)} "
                f"URL(s): {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"
            )
    else:
        values = list(stack_values)  # type: ignore[arg-type]
        if len(values) != len(urls):
            raise InvalidArgumentError(f"stack_values has {len(values)} values for {len(urls)} URLs")
    if stack_format is not None:
        try:
            values = [datetime.strptime(str(v), stack_format) for v in values]
        except ValueError as exc:
            raise InvalidArgumentError(f"stack_format {stack_format!r}: {exc}") from None
    return values


def select_band_files(urls: list[str], values: list[Any], bands: Sequence[Any]) -> tuple[list[str], list[Any]]:
    """With ``stack_dim="band"``, ``bands=`` names the stack values to keep: only those files are read."""
    keep = set(bands)
    selected = [i for i, v in enumerate(values) if v in keep]
    urls = [urls[i] for i in selected]
    values = [values[i] for i in selected]
    if not urls:
        raise InvalidArgumentError("bands= keeps none of the files' band names")
    return urls, values


def as_coordinate(values: list[Any]) -> np.ndarray:
    """Stack values as a coordinate array: dates and datetimes as ``datetime64[ns]`` (what xarray and
    Zarr readers treat as time), anything else as numpy makes it."""
    if values and all(isinstance(v, datetime | date | np.datetime64) for v in values):
        return np.array(values, dtype="datetime64[ns]")
    return np.asarray(values)


def stack_positions(values: list[Any] | None, count: int, stack: np.ndarray | None = None,
                    ) -> tuple[np.ndarray | None, list[int]]:
    """The stack coordinate (sorted unique values, or ``stack`` when given: a superset shared with other
    variables) and each of the ``count`` files' index along it; ``(None, [0, ...])`` without a stack."""
    if values is not None and stack is not None:
        return stack, np.searchsorted(stack, as_coordinate(values)).tolist()
    if values is not None:
        coord = as_coordinate(values)
        uniq, index = np.unique(coord, return_inverse=True)
        return uniq, index.reshape(-1).tolist()
    return None, [0] * count
