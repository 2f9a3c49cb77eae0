"""``publish_bands``: every group of a band cube (``bands.open_virtual_bands``) in one session and one commit.

A band cube holds one group per CRS and resolution (``EPSG_32631/10m``); publishing them one by one could
leave a repository with some groups new and others old when one fails. Here every group goes through
``publish`` (new groups, e.g. a new UTM zone) or ``append`` (groups already in the repository) in the same
session, committed once: a failure anywhere discards the session and the repository stays as it was.
It lives in the Icechunk layer, not in ``bands``, so building a band cube never imports Icechunk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import zarr

from ..errors import PublishError
from ._publishing import append as append_cube
from ._publishing import publish

if TYPE_CHECKING:
    from ..bands import BandCube


@dataclass(frozen=True)
class BandsPublished:
    """What ``publish_bands`` wrote: the snapshot, and per group whether it was created or appended to."""

    snapshot_id: str | None
    message: str
    groups: dict[str, str]  #: path -> "published" | "appended"
    references: int
    files: int


def publish_bands(cube: BandCube, repo: Any, *, append: bool = False, registry: Any = None, branch: str = "main",
                  message: str | None = None, allow_skipped: bool = False) -> BandsPublished:
    """Write every group of ``cube`` to the Icechunk repository ``repo`` in one session and one commit.

    ``append=False``: every group is new (``icechunk.publish``). ``append=True``: groups already in the
    repository get the new time steps (``icechunk.append``), new groups (a new CRS) are published. Any
    failure discards the session: nothing is half-published.
    """
    if cube.failed and not allow_skipped:
        raise PublishError(f"{len(cube.failed)} item(s) were skipped by the build; nothing was committed (pass "
                           "allow_skipped=True to publish the others and record these): "
                           + ", ".join(list(cube.failed)[:5]))
    session = repo.writable_session(branch)
    done: dict[str, str] = {}
    refs = 0
    files: set[str] = set()
    try:
        root = zarr.open_group(session.store, mode="a", zarr_format=3) if append else None
        for path, gcube in cube.group_cubes().items():
            exists = root is not None and _has_group(root, path)
            write: Callable[..., Any] = append_cube if exists else publish
            kwargs: dict[str, Any] = {"dim": "time"} if exists else {"time_dim": "time"}
            attrs = dict(root[path].attrs) if exists else None
            result = write(gcube, session, sources=gcube.sources, registry=registry, group=path, **kwargs)
            if attrs:  # icechunk.append's xarray write of the time coordinate empties the group's attributes
                zarr.open_group(session.store, path=path, mode="a", zarr_format=3).update_attributes(attrs)
            done[path] = "appended" if exists else "published"
            refs += result.total_references
            files.update(gcube.sources)
        text = message or _bands_message(done, refs, len(files), cube.failed)
        metadata = {"virtual_geotiff": {"action": "append" if append else "publish", "groups": done,
                                        "references": refs, "files": len(files),
                                        "skipped": [{"item": k, "reason": v} for k, v in cube.failed.items()]}}
        snapshot = session.commit(text, metadata=metadata)
    except BaseException:
        session.discard_changes()
        raise
    return BandsPublished(snapshot, text, done, refs, len(files))


def _has_group(root: Any, path: str) -> bool:
    try:
        node = root[path]
    except KeyError:
        return False
    return hasattr(node, "members")


def _bands_message(done: Mapping[str, str], refs: int, files: int, skipped: Mapping[str, str]) -> str:
    by_verb: dict[str, list[str]] = {}
    for path, verb in done.items():
        by_verb.setdefault(verb, []).append(path)
    parts = "; ".join(f"{verb} {', '.join(paths)}" for verb, paths in by_verb.items())
    text = f"virtual-geotiff: {parts}: {files} file(s), {refs} virtual reference(s)"
    if skipped:
        text += f"; skipped {len(skipped)} item(s): " + ", ".join(list(skipped)[:5]) + (" ..." if len(skipped) > 5
                                                                                         else "")
    return text
