"""Virtual chunk containers for exactly the sources' prefixes, and repositories configured with them.

Icechunk reads a virtual chunk only through a container whose prefix matches its URL and whose access the
reader authorised. Containers are derived from the source URLs (narrowest common directory per bucket or
host) and configured from the build's obstore stores, so an S3-compatible endpoint used for the build is
used for reads too.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import icechunk as ic

from ..errors import InvalidArgumentError

_DEFAULT_PORTS = {"http": 80, "https": 443}


def icechunk_url(url: str) -> str:
    """``url`` as Icechunk stores a virtual chunk location: an explicit default port (``:80`` for http,
    ``:443`` for https) is dropped, as URL parsers normalise it; any other port is kept, as Icechunk keeps it."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or parts.port != _DEFAULT_PORTS[parts.scheme]:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    userinfo = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}" if userinfo else host))


def _container_groups(urls: Iterable[str]) -> dict[str, str]:
    """``{prefix: one of its URLs}`` (the URL resolves the prefix's store in a registry)."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    examples: dict[tuple[str, str, str], str] = {}
    for url in urls:
        parts = urlsplit(icechunk_url(url) if urlsplit(url).scheme in _DEFAULT_PORTS else url)
        if not parts.scheme or parts.scheme == "memory":
            raise InvalidArgumentError(
                f"{url} is not an object-store URL Icechunk can reference; in-memory arrays (computed x/y "
                "coordinates) must be loaded: open with VirtualiZarr's default loadable_variables"
            )
        directory = posixpath.dirname(parts.path) or "/"
        top = directory.strip("/").split("/", 1)[0] if parts.scheme == "file" else ""
        key = (parts.scheme, parts.netloc, top)
        groups.setdefault(key, []).append(directory)
        examples.setdefault(key, url)
    prefixes = {}
    for key, dirs in sorted(groups.items()):
        scheme, netloc, _ = key
        common = posixpath.commonpath(dirs).rstrip("/")
        if scheme == "file" and not common:
            raise InvalidArgumentError(f"cannot make a file:// container for files at the filesystem root: {dirs[0]}")
        prefixes[f"{scheme}://{netloc}{common}/"] = examples[key]
    return prefixes


def container_prefixes(urls: Iterable[str]) -> list[str]:
    """The narrowest virtual chunk container prefixes covering ``urls``: one per bucket/host (per top-level
    directory for ``file://``, where Icechunk refuses a bare ``file:///``), at the deepest common directory."""
    return list(_container_groups(urls))


def virtual_chunk_containers(urls: Iterable[str], registry: Any = None) -> list[ic.VirtualChunkContainer]:
    """One ``VirtualChunkContainer`` per prefix of ``container_prefixes(urls)``.

    S3 options (endpoint, region, path style, plain HTTP) and HTTP client options are taken from the obstore
    store ``registry`` resolves for the prefix's URLs, so a moto or MinIO endpoint configured for the build
    is configured for reads too.
    """
    return [ic.VirtualChunkContainer(prefix, _store_config(prefix, registry, example))
            for prefix, example in _container_groups(urls).items()]


def _resolved_store(url: str, registry: Any) -> Any:
    if registry is None:
        return None
    try:
        store, _ = registry.resolve(url)
    except Exception:  # no store registered: defaults from the environment
        return None
    return store


def _store_config(prefix: str, registry: Any, example: str | None = None) -> Any:
    scheme = urlsplit(prefix).scheme
    if scheme == "file":
        return ic.local_filesystem_store(urlsplit(prefix).path.rstrip("/") or "/")
    store = _resolved_store(example or prefix + "x", registry)
    if scheme == "s3":
        config = dict(getattr(store, "config", None) or {})
        options = dict(getattr(store, "client_options", None) or {})
        endpoint = config.get("endpoint")
        return ic.s3_store(
            region=config.get("region"),
            endpoint_url=endpoint,
            allow_http=str(options.get("allow_http", "false")).lower() == "true",
            anonymous=str(config.get("skip_signature", "false")).lower() == "true",
            s3_compatible=endpoint is not None,
            force_path_style=str(config.get("virtual_hosted_style_request", "false")).lower() != "true"
            and endpoint is not None,
        )
    if scheme in ("http", "https"):
        options = {k: str(v) for k, v in (getattr(store, "client_options", None) or {}).items()}
        return ic.http_store(options or None)
    raise InvalidArgumentError(f"no Icechunk virtual chunk container type for {scheme}:// URLs ({prefix})")


def _credentials(prefix: str, registry: Any, given: Mapping[str, Any] | None) -> Any:
    if given and prefix in given:
        return given[prefix]
    scheme = urlsplit(prefix).scheme
    if scheme == "file":
        return ic.credentials.LocalFileSystemAccess
    if scheme in _DEFAULT_PORTS:
        return ic.credentials.HttpAccess
    if scheme != "s3":
        return None
    config = dict(getattr(_resolved_store(prefix + "x", registry), "config", None) or {})
    if str(config.get("skip_signature", "false")).lower() == "true":
        return ic.s3_credentials(anonymous=True)
    if config.get("access_key_id") and config.get("secret_access_key"):
        return ic.s3_credentials(access_key_id=config["access_key_id"],
                                 secret_access_key=config["secret_access_key"],
                                 session_token=config.get("token") or config.get("session_token"))
    return None


#: Icechunk splits a fetch larger than its ideal request size into concurrent range requests (12 MiB by
#: default). A virtual chunk is one TIFF tile or strip: one request each is cheapest for every server, so
#: repositories made here raise the size above any chunk the build accepts (``Limits.max_chunk_bytes``).
ONE_REQUEST_PER_CHUNK = 1 << 32


def read_settings(config: ic.RepositoryConfig | None = None) -> ic.RepositoryConfig:
    """``config`` (or the default) set to fetch every virtual chunk with one range request."""
    config = config or ic.RepositoryConfig.default()
    storage = config.storage or ic.StorageSettings()
    concurrency = storage.concurrency or ic.StorageConcurrencySettings()
    if concurrency.ideal_concurrent_request_size is None:
        concurrency.ideal_concurrent_request_size = ONE_REQUEST_PER_CHUNK
    storage.concurrency = concurrency
    config.storage = storage
    return config


def create_repository(storage: ic.Storage, sources: Iterable[str] | Mapping[str, Any], *, registry: Any = None,
                      credentials: Mapping[str, Any] | None = None, config: ic.RepositoryConfig | None = None,
                      spec_version: int | None = None) -> ic.Repository:
    """A new repository whose config has virtual chunk containers for exactly the sources' prefixes.

    ``sources``: the URLs (or the ``{url: SourceStamp}`` mapping) the cube references; ``registry``: the
    obstore registry used for the build (store options for S3/HTTP containers and S3 read credentials);
    ``credentials``: explicit ``{prefix: icechunk credentials}`` overriding those. The config fetches each
    virtual chunk with one request (``read_settings``) unless ``config`` sets its own request size.
    ``spec_version``: None (default) makes a repository in Icechunk's current format; ``1`` makes one in the
    previous format, for readers that have not upgraded Icechunk (the current Icechunk reads and commits to
    both).
    """
    config = read_settings(config)
    containers = virtual_chunk_containers(list(sources), registry)
    for container in containers:
        config.set_virtual_chunk_container(container)
    authorize = ic.containers_credentials(
        {c.url_prefix: _credentials(c.url_prefix, registry, credentials) for c in containers})
    return ic.Repository.create(storage, config, authorize_virtual_chunk_access=authorize,
                                spec_version=spec_version)


def open_repository(storage: ic.Storage, *, registry: Any = None,
                    credentials: Mapping[str, Any] | None = None) -> ic.Repository:
    """Open a repository (either format) with read access authorised for every virtual chunk
    container in its config, fetching each virtual chunk with one request unless its config says otherwise."""
    stored = ic.Repository.fetch_config(storage)
    prefixes = list((stored.virtual_chunk_containers or {}).keys()) if stored is not None else []
    authorize = ic.containers_credentials({p: _credentials(p, registry, credentials) for p in prefixes})
    overrides = None
    if stored is None or stored.storage is None or stored.storage.concurrency is None or \
            stored.storage.concurrency.ideal_concurrent_request_size is None:
        overrides = read_settings(ic.RepositoryConfig())
    return ic.Repository.open(storage, config=overrides, authorize_virtual_chunk_access=authorize)


def check_containers(config: ic.RepositoryConfig, urls: Sequence[str]) -> None:
    """Refuse, before anything is written, sources no container of ``config`` covers: Icechunk would store
    their references and fail only at read time."""
    prefixes = list((config.virtual_chunk_containers or {}).keys())
    uncovered = [u for u in urls if not any(icechunk_url(u).startswith(p) for p in prefixes)]
    if uncovered:
        shown = ", ".join(uncovered[:5]) + (f" and {len(uncovered) - 5} more" if len(uncovered) > 5 else "")
        raise InvalidArgumentError(
            f"{len(uncovered)} source file(s) lie outside every virtual chunk container of the repository "
            f"(containers: {prefixes or 'none'}): {shown}. Create the repository with "
            f"virtual_geotiff.icechunk.create_repository(storage, sources) or add containers for "
            f"{container_prefixes(uncovered)}"
        )
