"""What a build knows about each source object: the identity the Icechunk publisher checks for drift.

Captured while the header is read (from the metadata of the first range GET, no extra request) and carried
on ``TiffHeader.stamp``. Multi-file builds collect them per URL; publishing writes the ETag (or, when the
store gives none, the last-modified time) as each virtual reference's checksum, so a later read of a
changed source fails instead of returning pixels from a different file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SourceStamp:
    """Identity of one source object at build time."""

    url: str
    etag: str | None = None
    last_modified: datetime | None = None
    size: int | None = None

    @classmethod
    def from_meta(cls, url: str, meta: Mapping[str, Any]) -> SourceStamp:
        """From obspec ``ObjectMeta`` (``e_tag``, ``last_modified``, ``size``), as a GET or HEAD returns it.

        The ETag is kept exactly as the store reports it (HTTP/S3 and local stores quote it).
        """
        size = meta.get("size")
        return cls(url=url, etag=meta.get("e_tag"), last_modified=meta.get("last_modified"),
                   size=None if size is None else int(size))
