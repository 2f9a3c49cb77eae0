"""STAC items as the input of a band cube: ``open_stac_cube(items_or_catalog, assets=["B02", "SCL"])``.

Accepted input: a ``pystac.ItemCollection`` or any iterable of ``pystac.Item`` (pystac itself is only
needed to make those); a static catalog or collection (``catalog.json``, on disk or in object storage:
``child`` and ``item`` links are followed concurrently); a JSON file of items (a FeatureCollection, a list
or one Feature). JSON is parsed here with the standard library into plain dicts, not pystac objects:
reading the catalog must cost little next to reading the TIFF headers it lists.

Per item: each selected asset becomes a ``bands.BandFile`` whose band is the asset key, whose time is
the item's ``datetime`` (``start_datetime`` when it is null) and whose ``Declared`` fields come from the
asset's ``proj:code``/``proj:epsg``, ``proj:shape`` and ``proj:transform`` (item properties as fallback);
the band builder cross-checks those against the headers. ``properties`` (default: cloud cover and
platform) become coordinates along ``time``.

Hrefs are resolved safely: relative ones against the JSON file that holds the item, never above the
catalog's root directory (``urls.resolve_relative``); absolute ones only inside a prefix the registry
serves. Whatever is wrong is reported per item (asset missing, href unsafe or unresolvable, item without
a time, an id given twice) and the item is left out with ``on_error="skip"``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from .bands import BandCube, BandFile, Declared, as_time, open_virtual_bands
from .cube import OnError
from .errors import InvalidArgumentError, UnsafeUrlError
from .limits import Limits
from .tiff.headers import DEFAULT_CONCURRENCY, Progress
from .urls import registered_prefix, resolve_relative

__all__ = ["DEFAULT_PROPERTIES", "StacFiles", "StacItem", "open_stac_cube", "read_items", "stac_band_files"]

#: Item properties kept as coordinates along ``time`` by default.
DEFAULT_PROPERTIES = ("eo:cloud_cover", "platform")
_TIFF_SUFFIXES = (".tif", ".tiff", ".TIF", ".TIFF")


@dataclass(frozen=True)
class StacItem:
    """The parts of a STAC item a cube needs (``base``: the URL its relative hrefs are resolved against)."""

    id: str
    data: Mapping[str, Any]
    base: str | None


@dataclass
class StacFiles:
    """Items turned into band files, the items already known to be bad, and the registry used."""

    files: list[BandFile]
    failed: dict[str, str]
    registry: Any
    items: int


# ---------------------------------------------------------------------------------------------- reading


def _url_of(source: str | os.PathLike[str]) -> str:
    text = os.fspath(source)
    return text if "://" in text else "file://" + str(Path(text).expanduser().resolve())


def _default_registry(url: str) -> Any:
    """A registry granting the catalog's own location: its directory (local) or its bucket/host."""
    import obstore
    from obspec_utils.registry import ObjectStoreRegistry

    if url.startswith("file://"):
        return ObjectStoreRegistry({url.rsplit("/", 1)[0]: obstore.store.LocalStore()})
    prefix = "/".join(url.split("/", 3)[:3])
    return ObjectStoreRegistry({prefix: obstore.store.from_url(prefix)})


#: A relative href that cannot leave its directory: plain path segments, no ``..``, no encoding, no scheme.
_PLAIN_HREF = re.compile(r"(?:\./)?[A-Za-z0-9_\-][A-Za-z0-9_.\-]*"  # first segment: not "." or ".."
                         r"(?:/(?!\.\.?(?:/|$))[A-Za-z0-9_.\-]+)*")  # others: never "." or ".." either


def _join_plain(base: str, href: str) -> str | None:
    """``href`` resolved against the document at ``base`` when it is a plain relative path (the common case,
    a string join: it stays below ``base``'s directory, which was checked), else None (full check needed)."""
    if _PLAIN_HREF.fullmatch(href) is None:
        return None
    return base.rsplit("/", 1)[0] + "/" + (href[2:] if href.startswith("./") else href)


async def _get_json(url: str, registry: Any, semaphore: asyncio.Semaphore, local: bool) -> Any:
    """One JSON document through the registry; ``local``: a file:// URL inside the (registered, checked)
    catalog root, read directly (no store round trip per item file)."""
    if local:
        return json.loads(Path(urlparse(url).path).read_bytes())
    try:
        store, path = registry.resolve(url)
    except ValueError:
        raise UnsafeUrlError(f"{url}: no store in the registry serves it; register its prefix") from None
    async with semaphore:
        result = await store.get_async(path)
        data = await result.buffer_async()
    return json.loads(bytes(data))


def _link_url(base: str, href: str, root: str, registry: Any, what: str) -> str:
    return _join_plain(base, href) or resolve_relative(base, href, registry, root=root, allow_absolute=True,
                                                       what=what)


async def _walk(url: str, registry: Any, concurrency: int) -> tuple[list[StacItem], dict[str, str]]:
    """Every item under ``url`` (a catalog, collection, item file or FeatureCollection), links followed
    level by level with ``concurrency`` reads in flight, never outside the catalog's root directory."""
    semaphore = asyncio.Semaphore(concurrency)
    root = url.rsplit("/", 1)[0]
    # every link is resolved inside root, so one check of root covers every document read
    local = url.startswith("file://") and registered_prefix(url, registry) is not None
    items: list[StacItem] = []
    failed: dict[str, str] = {}
    level = [url]
    seen = {url}
    first = True
    while level:
        docs = await asyncio.gather(*(_get_json(u, registry, semaphore, local) for u in level),
                                    return_exceptions=True)
        following = []
        for u, doc in zip(level, docs):
            if isinstance(doc, BaseException):
                if first:
                    raise doc if isinstance(doc, OSError | UnsafeUrlError) else InvalidArgumentError(
                        f"{u}: not a STAC catalog, collection or item file ({type(doc).__name__}: {doc})")
                failed[u] = f"cannot read {u}: {type(doc).__name__}: {doc}"
                continue
            for child in _documents(doc, u, items, failed):
                try:
                    link = _link_url(u, child, root, registry, "STAC link")
                except UnsafeUrlError as exc:
                    failed[f"{u} -> {child}"] = str(exc)
                    continue
                if link not in seen:
                    seen.add(link)
                    following.append(link)
        level = following
        first = False
    return items, failed


def _documents(doc: Any, url: str, items: list[StacItem], failed: dict[str, str]) -> list[str]:
    """Collect the items in ``doc``; return the hrefs of the documents it links to (children, items)."""
    if isinstance(doc, list):
        features = doc
    elif isinstance(doc, dict) and doc.get("type") == "FeatureCollection":
        features = doc.get("features") or []
    elif isinstance(doc, dict) and doc.get("type") == "Feature":
        features = [doc]
    elif isinstance(doc, dict) and doc.get("type") in ("Catalog", "Collection"):
        return [link["href"] for link in doc.get("links") or []
                if isinstance(link, dict) and link.get("rel") in ("child", "item") and link.get("href")]
    else:
        failed[url] = f"{url} is not a STAC catalog, collection, item or FeatureCollection"
        return []
    for feature in features:
        if not isinstance(feature, dict) or not isinstance(feature.get("id"), str):
            failed[f"{url} (feature without id)"] = "a feature without a string id"
            continue
        items.append(StacItem(feature["id"], feature, url))
    return []


def read_items(source: Any, registry: Any = None, *, concurrency: int = DEFAULT_CONCURRENCY,
               ) -> tuple[list[StacItem], dict[str, str], Any, str | None]:
    """Items of ``source`` as plain dicts, unreadable documents, the registry, and the catalog root URL."""
    if isinstance(source, str | os.PathLike):
        url = _url_of(source)
        registry = registry or _default_registry(url)
        from ._sync import run_sync

        items, failed = run_sync(_walk(url, registry, concurrency))
        return items, failed, registry, url.rsplit("/", 1)[0]
    items = []
    for item in _iter_pystac(source):
        data = {"id": item.id, "properties": {**item.properties,
                                              "datetime": item.datetime.isoformat() if item.datetime else None},
                "assets": {k: {**a.extra_fields, "href": a.get_absolute_href() or a.href, "type": a.media_type,
                               "roles": a.roles} for k, a in item.assets.items()}}
        base = item.get_self_href()
        items.append(StacItem(item.id, data, _url_of(base) if base else None))
    if registry is None:
        raise InvalidArgumentError("open_stac_cube(pystac items) needs registry=: an ObjectStoreRegistry serving "
                                   "the asset hrefs (nothing outside it is read)")
    return items, {}, registry, None


def _iter_pystac(source: Any) -> Iterable[Any]:
    if hasattr(source, "items") and not isinstance(source, Mapping) and not callable(source.items):
        return list(source.items)  # pystac.ItemCollection
    if hasattr(source, "__iter__"):
        out = list(source)
        if all(hasattr(i, "assets") and hasattr(i, "datetime") for i in out):
            return out
    raise InvalidArgumentError(f"expected a path/URL of a STAC catalog or item file, a pystac ItemCollection or "
                               f"a list of pystac Items, got {type(source).__name__}")


# ---------------------------------------------------------------------------------------------- items -> files


def _time(props: Mapping[str, Any], resolution: str | None) -> Any:
    text = props.get("datetime") or props.get("start_datetime")
    if not text:
        raise ValueError("has no datetime (nor start_datetime)")
    try:
        value = as_time(datetime.fromisoformat(str(text)))
    except ValueError:
        raise ValueError(f"datetime {text!r} is not ISO 8601") from None
    return value if resolution is None else value.astype(f"datetime64[{resolution}]").astype("datetime64[ns]")


def _declared(asset: Mapping[str, Any], props: Mapping[str, Any]) -> Declared | None:
    """The asset's ``proj:`` fields (the item's properties where the asset has none)."""
    code = asset["proj:code"] if "proj:code" in asset else props.get("proj:code")
    epsg = asset["proj:epsg"] if "proj:epsg" in asset else props.get("proj:epsg")
    shape = asset["proj:shape"] if "proj:shape" in asset else props.get("proj:shape")
    transform = asset["proj:transform"] if "proj:transform" in asset else props.get("proj:transform")
    if code is None and epsg is None and shape is None and transform is None:
        return None
    if isinstance(code, str) and code[:5].upper() == "EPSG:":
        epsg = int(code[5:])
    return Declared(epsg=None if epsg is None else int(epsg),
                    shape=(int(shape[0]), int(shape[1])) if shape else None,
                    transform=tuple(map(float, transform[:6])) if transform else None)


def _is_tiff(asset: Mapping[str, Any]) -> bool:
    media = str(asset.get("type") or "")
    roles = asset.get("roles") or ["data"]
    return ("tiff" in media or str(asset.get("href", "")).endswith(_TIFF_SUFFIXES)) and "data" in roles


#: Path segments an absolute href must not contain (they could climb out of a registered prefix).
_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?:/|$)|%|\\")


def _asset_url(item: StacItem, href: str, registry: Any, root: str | None, granted: dict[str, bool]) -> str:
    """The URL of ``href``: relative ones inside ``root``, absolute ones inside a registered prefix (the
    answer is cached per directory in ``granted``)."""
    absolute = href if "://" in href else ("file://" + href if href.startswith("/") else None)
    if absolute is not None:
        directory = absolute.rsplit("/", 1)[0]
        if directory not in granted:
            path = urlparse(absolute).path
            granted[directory] = _DOT_SEGMENT.search(path) is None and \
                registered_prefix(directory + "/x", registry) is not None
        if not granted[directory]:
            raise UnsafeUrlError(f"href {href} lies outside the registered prefixes (or names '.', '..' or an "
                                 "encoded character); register its prefix in the registry (CLI: --allow PREFIX) "
                                 "if it may be read")
        return absolute
    if item.base is None:
        raise UnsafeUrlError(f"relative href {href!r} but the item has no location to resolve it against")
    if root is not None and item.base.startswith(root + "/"):  # the item's own location is inside the root
        joined = _join_plain(item.base, href)
        if joined is not None:
            return joined
    return resolve_relative(item.base, href, registry, root=root or "registered", what="asset href")


def stac_band_files(source: Any, registry: Any = None, *, assets: Sequence[str] | None = None,
                    properties: Sequence[str] = DEFAULT_PROPERTIES, time_resolution: str | None = None,
                    concurrency: int = DEFAULT_CONCURRENCY) -> StacFiles:
    """The band files of the STAC ``source`` (see ``open_stac_cube``) and the items already found bad."""
    if time_resolution is not None:
        try:
            np.datetime64("2000-01-01", time_resolution)
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"time_resolution must be a numpy datetime unit such as 'D', 'h' or 's', "
                                       f"got {time_resolution!r}") from None
    items, failed, registry, root = read_items(source, registry, concurrency=concurrency)
    files: list[BandFile] = []
    ids: set[str] = set()
    granted: dict[str, bool] = {}
    for item in items:
        try:
            files.extend(_item_files(item, registry, root, assets, properties, ids, granted, time_resolution))
        except (ValueError, UnsafeUrlError, TypeError, KeyError) as exc:
            reason = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
            failed[item.id if item.id not in failed else f"{item.id} ({item.base})"] = reason
    return StacFiles(files, failed, registry, len(items))


def _item_files(item: StacItem, registry: Any, root: str | None, assets: Sequence[str] | None,
                properties: Sequence[str], ids: set[str], granted: dict[str, bool],
                time_resolution: str | None = None) -> list[BandFile]:
    if item.id in ids:
        raise ValueError(f"item id {item.id} appears more than once (again in {item.base})")
    ids.add(item.id)
    props = item.data.get("properties") or {}
    have = item.data.get("assets") or {}
    when = _time(props, time_resolution)
    keys = list(assets) if assets is not None else [k for k, a in have.items() if _is_tiff(a)]
    missing = [k for k in keys if k not in have]
    if missing:
        raise KeyError(f"asset(s) {', '.join(missing)} missing (the item has {', '.join(have) or 'none'})")
    if not keys:
        raise ValueError("has no GeoTIFF data asset")
    kept = {p: props[p] for p in properties if p in props}
    out = []
    for key in keys:
        asset = have[key]
        url = _asset_url(item, str(asset["href"]), registry, root, granted)
        out.append(BandFile(key, url, when, item=item.id, declared=_declared(asset, props), properties=kept))
    return out


def open_stac_cube(source: Any, registry: Any = None, *, assets: Sequence[str] | None = None,
                   properties: Sequence[str] = DEFAULT_PROPERTIES, time_resolution: str | None = None,
                   single_crs: bool = False, on_error: OnError = "raise", concurrency: int = DEFAULT_CONCURRENCY,
                   progress: Progress | None = None, executor: Any = None, limits: Limits | None = None,
                   ) -> BandCube:
    """A cube of band variables, one group per CRS and resolution, from STAC items.

    Parameters
    ----------
    source
        A path or URL of a static catalog/collection (``catalog.json``) or of a JSON file of items, a
        ``pystac.ItemCollection`` or a list of ``pystac.Item``.
    registry
        The ``ObjectStoreRegistry`` serving the catalog and the assets; only hrefs inside its prefixes are
        read. Default for a path/URL: a registry of the catalog's own directory (local) or bucket/host.
    assets
        Asset keys to take as bands (default: every GeoTIFF data asset).
    properties
        Item properties kept as coordinates along ``time`` (when the items of each time step agree).
    time_resolution
        Truncate item times to this numpy unit (``"D"``: one step per day) so that tiles of one pass, whose
        sensing times differ by seconds, share a time step and are stitched side by side.
    single_crs, on_error, concurrency, progress, executor, limits
        As for ``bands.open_virtual_bands``; failures are keyed by item id.
    """
    found = stac_band_files(source, registry, assets=assets, properties=properties,
                            time_resolution=time_resolution, concurrency=concurrency)
    return open_virtual_bands(found.files, found.registry, single_crs=single_crs, on_error=on_error,
                              concurrency=concurrency, progress=progress, executor=executor, limits=limits,
                              failed=found.failed)
