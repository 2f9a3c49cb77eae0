"""Where a VRT's ``SourceFilename`` points, as a URL the registry resolves, and back for the writer.

Why this matters: a VRT is untrusted input naming other files. Relative names are joined to the VRT's
own URL and dot segments are removed *before* the registry resolves them, so ``../../secret.tif`` can
never slip past a store registered for a narrower prefix; a remote VRT may not name local files; GDAL
virtual file systems map to the URL schemes obstore knows (``/vsis3/`` -> ``s3://``, ``/vsicurl/`` ->
``https://``, ...), and any other (``/vsizip/``, ``/vsimem/``, ...) is refused by name.
"""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit, urlunsplit

from ..errors import UnsupportedVrtError, VrtFormatError

#: GDAL virtual file system prefixes and the URL scheme each one reads.
VSI_SCHEMES = {"/vsis3/": "s3", "/vsigs/": "gs", "/vsiaz/": "az", "/vsiadls/": "abfs"}
_REMOTE_SCHEMES = ("http", "https", "s3", "gs", "az", "abfs")


def _normalised(url: str, label: str) -> str:
    """``url`` with ``.``/``..`` segments removed; refuses paths climbing above the root."""
    parts = urlsplit(url)
    if not parts.scheme:
        raise VrtFormatError(f"{label}: {url!r} is not a URL")
    path = parts.path or "/"
    norm = posixpath.normpath(path)
    if norm.startswith("//"):  # posixpath keeps a leading '//'
        norm = "/" + norm.lstrip("/")
    if path.endswith("/") and not norm.endswith("/"):
        norm += "/"
    segments = path.split("/")
    depth = 0
    for seg in segments:
        if seg == "..":
            depth -= 1
            if depth < 0:
                raise VrtFormatError(f"{label}: {url!r} climbs above the root of {parts.scheme}://{parts.netloc}")
        elif seg not in ("", "."):
            depth += 1
    return urlunsplit((parts.scheme, parts.netloc, norm, parts.query, ""))


def source_url(vrt_url: str, filename: str, relative: bool, label: str = "SourceFilename") -> str:
    """The normalised URL of ``filename`` as GDAL would open it from the VRT at ``vrt_url``."""
    if "\\" in filename or (len(filename) > 1 and filename[1] == ":"):
        raise UnsupportedVrtError(f"{label} of {vrt_url}: Windows path {filename!r} cannot be resolved here")
    vrt_scheme = urlsplit(vrt_url).scheme
    if filename.startswith("/vsi"):
        if filename.startswith("/vsicurl/"):
            return _normalised(filename[len("/vsicurl/"):], label)
        for prefix, scheme in VSI_SCHEMES.items():
            if filename.startswith(prefix):
                return _normalised(f"{scheme}://{filename[len(prefix):]}", label)
        vsi = filename.split("/")[1]
        raise UnsupportedVrtError(f"{label} of {vrt_url} reads through GDAL's /{vsi}/ file system, which "
                                  "virtual-geotiff cannot reference; point the VRT at the files themselves")
    if "://" in filename:
        scheme = filename.split("://", 1)[0].lower()
        if scheme not in (*_REMOTE_SCHEMES, "file"):
            raise UnsupportedVrtError(f"{label} of {vrt_url}: URL scheme {scheme!r} of {filename!r} is not supported")
        if scheme == "file" and vrt_scheme != "file":
            raise VrtFormatError(f"{label} of {vrt_url} names the local file {filename!r}; a remote VRT may only "
                                 "name files next to it or remote URLs")
        return _normalised(filename, label)
    if filename.startswith("/"):
        if vrt_scheme != "file":
            raise VrtFormatError(f"{label} of {vrt_url} names the local path {filename!r}; a remote VRT may only "
                                 "name files next to it (relativeToVRT=\"1\") or remote URLs")
        return _normalised(f"file://{filename}", label)
    if not relative:
        # GDAL opens a non-relative relative name against the process's working directory: not reproducible
        raise VrtFormatError(f"{label} of {vrt_url}: {filename!r} is relative but relativeToVRT is not set, so "
                             "GDAL resolves it against its working directory; set relativeToVRT=\"1\"")
    base = vrt_url.rsplit("/", 1)[0]
    return _normalised(f"{base}/{filename}", label)


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
