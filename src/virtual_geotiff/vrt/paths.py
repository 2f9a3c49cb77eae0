"""Where a VRT's ``SourceFilename`` points, as a URL the registry resolves, and back for the writer.

Why this matters: a VRT is untrusted input naming other files. Resolution and its safety checks (``..``
normalised before any lookup, results only inside the prefix the registry serves the VRT from, no
queries/backslashes) are the canonical ``urls.resolve_relative``; this module adds what is specific to
GDAL's semantics, so that a reference is either read exactly as GDAL would read it or refused:

- a relative name with ``relativeToVRT="0"`` is opened by GDAL against its working directory: refused;
- an absolute local path in a remote VRT names the *local* disk for GDAL: refused (``resolve_relative``
  would otherwise read it from the VRT's bucket);
- GDAL virtual file systems other than the object-store ones (``/vsizip/``, ``/vsimem/``, ...): refused.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..errors import UnsupportedVrtError, VrtFormatError
from ..urls import resolve_relative, vsi_to_url

#: GDAL virtual file system prefixes and the URL scheme each one reads (writer side).
VSI_SCHEMES = {"/vsis3/": "s3", "/vsigs/": "gs", "/vsiaz/": "az", "/vsiadls/": "abfs"}


def source_url(vrt_url: str, filename: str, relative: bool, registry: Any = None,
               label: str = "SourceFilename") -> str:
    """The URL of ``filename`` as GDAL opens it from the VRT at ``vrt_url``, inside the VRT's registered prefix.

    Raises ``UnsafeUrlError`` (outside the prefix), ``VrtFormatError`` or ``UnsupportedVrtError``.
    """
    local_absolute = filename.startswith("/") and vsi_to_url(filename) is None
    if filename.startswith("/vsi") and vsi_to_url(filename) is None:
        vsi = filename.split("/")[1]
        raise UnsupportedVrtError(f"{label} of {vrt_url} reads through GDAL's /{vsi}/ file system, which "
                                  "virtual-geotiff cannot reference; point the VRT at the files themselves")
    absolute = local_absolute or vsi_to_url(filename) is not None or "://" in filename
    if local_absolute and urlsplit(vrt_url).scheme != "file":
        raise VrtFormatError(f"{label} of {vrt_url} names the local path {filename!r}; a remote VRT may only "
                             "name files next to it (relativeToVRT=\"1\") or remote URLs")
    if not absolute and not relative:
        raise VrtFormatError(f"{label} of {vrt_url}: {filename!r} is relative but relativeToVRT is not set, so "
                             "GDAL resolves it against its working directory; set relativeToVRT=\"1\"")
    return resolve_relative(vrt_url, filename, registry, root="registered" if registry is not None else None,
                            allow_absolute=True, what=label)


def gdal_filename(url: str) -> str:
    """The ``SourceFilename`` GDAL opens for ``url`` (writer side): a local path or a ``/vsi...`` name."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return parts.path
    if scheme in ("http", "https"):
        return f"/vsicurl/{url}"
    for prefix, vsi_scheme in VSI_SCHEMES.items():
        if scheme == vsi_scheme:
            return f"{prefix}{parts.netloc}{parts.path}"
    raise UnsupportedVrtError(f"no GDAL file system reads {url!r} (scheme {scheme!r})")
