"""One exception hierarchy for everything the library refuses.

Every message names the file (URL), the IFD and the tag value at fault and says what the user can do,
because these errors surface at build time, often deep inside a multi-file job.
"""

from __future__ import annotations


class VirtualGeoTiffError(Exception):
    """Base class of every error raised on purpose by virtual-geotiff."""


class TiffFormatError(VirtualGeoTiffError, ValueError):
    """The file is not a valid TIFF, is truncated or corrupt, or its tags contradict each other."""


class UnsupportedTiffError(VirtualGeoTiffError, NotImplementedError):
    """The file is a valid TIFF that uses a feature virtual-geotiff cannot (yet) map to Zarr exactly."""


class LimitExceededError(TiffFormatError):
    """A safety limit (IFD count, header bytes, chunks per array, ...) was exceeded."""


class StoredOrientationWarning(UserWarning):
    """An IFD's Orientation tag is not 1 (top-left): its pixels are returned as stored, as GDAL and tifffile
    return them, and the ``tiff_orientation`` attribute records the tag."""


class InvalidArgumentError(VirtualGeoTiffError, ValueError):
    """A parser or builder argument is invalid; raised at construction, before any I/O."""


class SourceReadError(VirtualGeoTiffError, OSError):
    """Reading a source object failed after the retries (network faults, 5xx answers, access denied)."""


class UnsafeUrlError(VirtualGeoTiffError, ValueError):
    """A path named inside a file (VRT source, sidecar) is absolute or resolves outside the allowed prefix."""


#: What to do about a damaged file (appended to TiffFormatError messages about truncation/corruption).
CORRUPT_HINT = ("re-copy the file from its source (an interrupted upload or download is the usual cause) or, if GDAL "
                "still opens it, rewrite it with `gdal_translate -of COG in.tif out.tif`")
#: What to do when a chunk read at read time does not match the references (the file changed since the build).
STALE_HINT = ("if the file changed after the references were built, rebuild them (`virtual-geotiff verify REPO` "
              "lists changed files)")


def where(url: str, ifd: int | None = None) -> str:
    """The location phrase used by every message: ``IFD 2 of file:///data/x.tif``."""
    return f"IFD {ifd} of {url}" if ifd is not None else url


class IncompatibleSourcesError(VirtualGeoTiffError, ValueError):
    """Files cannot be stitched or stacked into one array (CRS, resolution, alignment, dtype, codecs differ).

    ``problems`` maps each offending file to what differs, so a caller can drop or fix exactly those files.
    """

    def __init__(self, message: str, problems: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.problems: dict[str, list[str]] = problems or {}

    @classmethod
    def from_problems(cls, what: str, problems: dict[str, list[str]], hint: str = "") -> IncompatibleSourcesError:
        lines = [f"{what}: {len(problems)} file(s) do not fit"]
        for url, reasons in problems.items():
            lines.extend(f"  {url}: {reason}" for reason in reasons)
        if hint:
            lines.append(hint)
        return cls("\n".join(lines), problems)


class FailedSourcesError(VirtualGeoTiffError):
    """Some files of a multi-file build could not be read; ``failed`` maps each URL to its reason.

    Raised after every file was tried, so one error lists them all. Pass ``on_error="skip"`` to build from
    the readable files instead.
    """

    def __init__(self, message: str, failed: dict[str, str] | None = None,
                 errors: dict[str, BaseException] | None = None) -> None:
        super().__init__(message)
        self.failed: dict[str, str] = failed or {}
        self.errors: dict[str, BaseException] = errors or {}

    @classmethod
    def from_failures(cls, failures: dict) -> FailedSourcesError:
        """From ``{url: FailedSource}`` (anything with ``reason`` and ``error``)."""
        failed = {url: f.reason for url, f in failures.items()}
        lines = [f"{len(failed)} file(s) could not be read:"]
        lines.extend(f"  {url}: {reason}" for url, reason in failed.items())
        lines.append('nothing was built; fix or remove these files, or pass on_error="skip" to build without them')
        return cls("\n".join(lines), failed, {url: f.error for url, f in failures.items()})


class VrtFormatError(TiffFormatError):
    """A GDAL ``.vrt`` file is not well-formed XML or its elements contradict each other."""


class UnsupportedVrtError(UnsupportedTiffError):
    """A valid GDAL VRT uses a feature that needs computation (resampling, scaling, LUTs, warping, derived
    bands, partial-chunk placement, ...): it cannot be expressed as byte-range references to its sources."""


class PublishError(VirtualGeoTiffError, RuntimeError):
    """Publishing to Icechunk stopped and nothing was committed; the message names the step, array or files."""
