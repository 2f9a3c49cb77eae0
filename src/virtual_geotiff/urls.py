"""Resolve paths found inside files (VRT sources, sidecars) to URLs, never outside what the user registered.

Why one helper: a VRT's ``SourceFilename`` or a sidecar name comes from a file a stranger wrote. Taken
naively, ``../../etc/passwd``, ``/home/me/.aws/credentials`` or ``s3://someone-elses-bucket/x.tif`` would
make a build read objects the user never meant to expose, with the user's credentials. Every lookup of a
path named by file contents goes through ``resolve_relative``, which:

- resolves the reference against the directory of the file that names it (``base_url``);
- refuses absolute references (``/x``, ``file:///x``, ``s3://b/x``, ``/vsis3/b/x``) unless the caller
  opts in with ``allow_absolute=True`` -- and even then only inside the allowed root;
- normalises ``.`` and ``..`` (also their percent-encoded forms) and refuses any result outside ``root``:
  by default the directory holding ``base_url``; ``root="registered"`` widens it to the prefix registered
  in the ``ObjectStoreRegistry`` that serves ``base_url`` (the user's grant), never further;
- refuses backslashes, NUL/control characters, queries and fragments, which object stores and servers
  interpret in ways a path check cannot see.

Every refusal raises ``UnsafeUrlError`` naming the file, the reference and what the user can do.

``normalize_url`` lives here too: the one canonical spelling of a source URL, which manifests, stamps and
error messages all use.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlparse

from .errors import UnsafeUrlError


def normalize_url(url: str) -> str:
    """The canonical form of a source URL used in every manifest (``file:///abs/path`` for local files)."""
    from virtualizarr.manifests.manifest import validate_and_normalize_path_to_uri

    return validate_and_normalize_path_to_uri(url)

#: GDAL virtual file system prefixes that name objects in a store, and the URL scheme each maps to.
_VSI_SCHEMES = {"/vsis3/": "s3://", "/vsigs/": "gs://", "/vsiaz/": "az://", "/vsiadls/": "abfs://"}


def _split(url: str) -> tuple[str, list[str]]:
    """``("scheme://netloc", [segments])`` of a URL (empty segments dropped)."""
    parsed = urlparse(url)
    if not parsed.scheme or "://" not in url:
        raise UnsafeUrlError(f"{url!r} is not a URL with a scheme (e.g. file:///data/x.tif, s3://bucket/x.tif)")
    return f"{parsed.scheme}://{parsed.netloc}", [s for s in parsed.path.split("/") if s]


def _join(origin: str, segments: list[str]) -> str:
    return origin + "/" + "/".join(segments)


def registered_prefix(url: str, registry: Any) -> str | None:
    """The prefix (``scheme://netloc/path``) under which ``registry`` serves ``url``, or None.

    Uses the registry's longest-match lookup, so the answer is exactly the grant that ``registry.resolve``
    would use for ``url``.
    """
    from obspec_utils.registry import UrlKey

    parsed = urlparse(url)
    entry = getattr(registry, "map", {}).get(UrlKey(parsed.scheme, parsed.netloc))
    found = entry.lookup(parsed.path) if entry is not None else None
    if found is None:
        return None
    _, depth = found
    origin, segments = _split(url)
    return _join(origin, segments[:depth]).rstrip("/") if depth else origin


def is_within(url: str, root: str) -> bool:
    """True when ``url`` is ``root`` or below it, compared segment by segment (``s3://b/ab`` is not in
    ``s3://b/a``)."""
    origin, segments = _split(url)
    root_origin, root_segments = _split(root)
    return origin == root_origin and segments[: len(root_segments)] == root_segments


def vsi_to_url(path: str) -> str | None:
    """The URL a GDAL ``/vsis3/``, ``/vsigs/``, ``/vsiaz/``, ``/vsiadls/`` or ``/vsicurl/`` path names, or
    None when ``path`` is not one of those."""
    if path.startswith("/vsicurl/"):
        return path[len("/vsicurl/") :]
    for prefix, scheme in _VSI_SCHEMES.items():
        if path.startswith(prefix):
            return scheme + path[len(prefix) :]
    return None


def _check_characters(reference: str, base_url: str, what: str) -> None:
    if not isinstance(reference, str) or not reference.strip():
        raise UnsafeUrlError(f"{what} in {base_url} is empty")
    bad = next((c for c in reference if ord(c) < 32 or c in "\\?#\x7f"), None)
    if bad is not None:
        raise UnsafeUrlError(
            f"{what} {reference!r} in {base_url} contains {bad!r}; backslashes, control characters, "
            "queries and fragments are refused in paths taken from file contents"
        )


def _normalise(segments: list[str], reference: str, base_url: str, what: str) -> list[str]:
    """Apply ``.`` and ``..`` (plain or percent-encoded); refuse encoded separators."""
    out: list[str] = []
    for raw in segments:
        seg = unquote(raw)
        if "/" in seg or "\\" in seg or "\0" in seg:
            raise UnsafeUrlError(f"{what} {reference!r} in {base_url} hides a path separator in {raw!r}")
        if seg in ("", "."):
            continue
        if seg == "..":
            if not out:
                raise UnsafeUrlError(f"{what} {reference!r} in {base_url} climbs above the root of its URL")
            out.pop()
            continue
        out.append(raw)
    return out


def resolve_relative(base_url: str, reference: str, registry: Any = None, *, root: str | None = None,
                     allow_absolute: bool = False, what: str = "path") -> str:
    """The URL that ``reference`` (a path read from the file at ``base_url``) names, checked to be safe.

    Parameters
    ----------
    base_url
        URL of the file whose contents name ``reference`` (a VRT, a TIFF whose sidecar is looked up).
    reference
        The path as written in the file: ``"tile_1.tif"``, ``"sub/a.tif"``, ``"../b/c.tif"``.
    registry
        The ``ObjectStoreRegistry`` of the build: the result (and ``root``) must lie inside a prefix it
        serves.
    root
        The prefix the result must stay in. Default: the directory holding ``base_url`` (so ``..`` can
        never climb above it). ``"registered"``: the whole prefix the registry serves ``base_url`` from
        (the user's grant; lets VRTs use ``../tiles/x.tif``). Any other URL must lie inside that prefix.
    allow_absolute
        Accept absolute references (``/data/x.tif`` on a ``file://`` base, ``s3://b/x.tif``, GDAL
        ``/vsis3/b/x.tif``, ``/vsicurl/https://...``) -- still only inside ``root``.
    what
        Names the reference in error messages (``"SourceFilename"``, ``"overview sidecar"``).

    Raises
    ------
    UnsafeUrlError
        The reference is absolute (without ``allow_absolute``), malformed, or resolves outside ``root``.
    """
    _check_characters(reference, base_url, what)
    origin, base_segments = _split(base_url)
    base_dir = base_segments[:-1]
    allowed = root if root is not None else (_join(origin, base_dir) if base_dir else origin)
    if registry is not None:
        granted = registered_prefix(base_url, registry)
        if granted is None:
            raise UnsafeUrlError(f"{base_url} is not served by any prefix registered in the ObjectStoreRegistry")
        if root == "registered":
            allowed = granted
        elif not is_within(allowed, granted):
            raise UnsafeUrlError(f"root {allowed} is outside the registered prefix {granted}")
    elif root == "registered":
        raise UnsafeUrlError('root="registered" needs the registry')

    parsed = urlparse(reference)
    absolute_url = vsi_to_url(reference) or (reference if parsed.scheme and "://" in reference else None)
    if absolute_url is not None or reference.startswith("/"):
        if not allow_absolute:
            raise UnsafeUrlError(
                f"{what} {reference!r} in {base_url} is absolute; only paths relative to the file are followed "
                "(pass allow_absolute=True to follow absolute paths inside the registered prefixes)"
            )
        if absolute_url is None:  # a local absolute path: same origin as the base (file:///...)
            absolute_url = origin + reference
        target_origin, target_segments = _split(absolute_url)
        segments = _normalise(target_segments, reference, base_url, what)
    else:
        target_origin = origin
        segments = _normalise([*base_dir, *reference.split("/")], reference, base_url, what)
    if not segments:
        raise UnsafeUrlError(f"{what} {reference!r} in {base_url} names no object")
    url = _join(target_origin, segments)
    if not is_within(url, allowed):
        raise UnsafeUrlError(
            f"{what} {reference!r} in {base_url} resolves to {url}, outside the allowed prefix {allowed}; "
            "register that location explicitly (and pass it as root=) if the file may read it"
        )
    if registry is not None and registered_prefix(url, registry) is None:
        raise UnsafeUrlError(f"{what} {reference!r} in {base_url} resolves to {url}, which no registered store serves")
    return url
