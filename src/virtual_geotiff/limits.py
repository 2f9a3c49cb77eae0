"""Safety caps for files from strangers: every cap is configurable and raises LimitExceededError."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidArgumentError


@dataclass(frozen=True)
class Limits:
    """Upper bounds applied while reading one file's header and planning its arrays.

    The defaults are far above what real GeoTIFFs use (a 1,000,000-chunk array is a 512 GiB COG of
    512-px tiles) and low enough that a hostile file cannot exhaust memory or loop.
    """

    max_ifds: int = 10_000
    max_tags_per_ifd: int = 1_000
    max_tag_value_bytes: int = 256 * 1024 * 1024
    #: Values of all tags of one IFD chain together: decoded offsets take 8 bytes each, so a corrupt count of
    #: 67 million SHORTs (128 MiB on disk, under max_tag_value_bytes) would cost 512 MiB; 32 million values
    #: still cover 12 million chunks (offsets + byte counts, plus overviews).
    max_tag_values: int = 32_000_000
    max_header_bytes: int = 512 * 1024 * 1024
    max_chunks_per_array: int = 50_000_000
    #: One decoded tile or strip. The largest in the shared real-world corpus is 10.4 MiB (a single-strip
    #: 4160 x 870 RGB image); COG tiles are far smaller (1024 x 1024 x 4 float64 = 32 MiB). 256 MiB keeps a
    #: wide margin (a single-strip 9000 x 9000 RGB scan, an A0 1-bit scan at 300 dpi widened to bytes) while a
    #: corrupt tile size can no longer make each chunk read allocate gigabytes.
    max_chunk_bytes: int = 256 * 1024**2
    prefetch_bytes: int = 32 * 1024
    timeout_seconds: float = 120.0

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise InvalidArgumentError(f"Limits.{name} must be a positive number, got {value!r}")
