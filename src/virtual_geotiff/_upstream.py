"""The one module that reaches into private zarr and VirtualiZarr APIs for reading (``ChunkManifest``'s arrays
are ``manifest.py``'s).

Why: the grouped read pipeline (``fastread/pipeline.py``) fetches many chunks of a ``ManifestStore`` at once by
doing what ``ManifestStore.get`` does for each key (its group, its object-store registry, its key lookup and
prefix rule), and decodes chunks synchronously through the codec chain zarr resolves; ``GeoManifestStore``
(``store.py``) looks up a node of its own group. None of that has a public accessor upstream. Every such reach
is a small named function here, so an upstream rename is mended in one place, and
``tests/project/test_upstream.py`` runs each one against the installed zarr and VirtualiZarr and names the
upstream attribute that went missing.

Foundation layer: imports nothing from this package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

try:  # private: without them ``has_manifest_internals`` says no and chunks are fetched through ``get``
    from virtualizarr.manifests.store import _get_deepest_group_or_array
    from virtualizarr.manifests.utils import parse_manifest_index
except ImportError:  # pragma: no cover - only on a VirtualiZarr that moved them
    _get_deepest_group_or_array = None  # type: ignore[assignment]
    parse_manifest_index = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from virtualizarr.manifests import ManifestArray, ManifestGroup, ManifestStore
    from zarr.core.array_spec import ArraySpec
    from zarr.core.codec_pipeline import BatchedCodecPipeline

#: A codec's synchronous decode step: ``(chunk, spec) -> decoded chunk``.
SyncDecode = Callable[[Any, "ArraySpec"], Any]


# -- VirtualiZarr's ManifestStore ---------------------------------------------------------------------


def manifest_group(store: ManifestStore) -> ManifestGroup:
    """The root ``ManifestGroup`` a ``ManifestStore`` serves (``ManifestStore._group``)."""
    return store._group


def store_registry(store: ManifestStore) -> Any:
    """The ``ObjectStoreRegistry`` a ``ManifestStore`` resolves chunk URLs with (``ManifestStore._registry``)."""
    return store._registry


def has_manifest_internals(store: Any) -> bool:
    """Whether ``store`` and the installed VirtualiZarr have what ``manifest_group``, ``store_registry``,
    ``deepest_node`` and ``chunk_index`` need; without them the caller reads through ``store.get``."""
    if _get_deepest_group_or_array is None or parse_manifest_index is None:
        return False
    return hasattr(store, "_group") and hasattr(store, "_registry")


def deepest_node(group: ManifestGroup, key: str) -> tuple[ManifestGroup | ManifestArray, str]:
    """The node a store key lands on and the rest of the key (``store._get_deepest_group_or_array``)."""
    return _get_deepest_group_or_array(group, key)


def chunk_index(key: str, separator: str) -> tuple[int, ...]:
    """The chunk grid index of a chunk key, parsed as ``ManifestStore.get`` parses it
    (``utils.parse_manifest_index`` with ``expand_pattern=True``)."""
    return parse_manifest_index(key, separator, expand_pattern=True)  # type: ignore[arg-type]


def path_in_store(obj_store: Any, url: str) -> str:
    """The object key ``ManifestStore.get`` reads for ``url`` from ``obj_store`` (its prefix rule, verbatim)."""
    path = urlparse(url).path
    if getattr(obj_store, "prefix", None):
        prefix = str(obj_store.prefix).lstrip("/")
    elif hasattr(obj_store, "url"):
        prefix = urlparse(obj_store.url).path.lstrip("/")
    else:
        prefix = ""
    return path.lstrip("/").removeprefix(prefix).lstrip("/")


# -- zarr's codec pipeline ----------------------------------------------------------------------------


def decodes_synchronously(codec: Any) -> bool:
    """Whether ``codec`` has zarr's synchronous decode step (``Codec._decode_sync``)."""
    return hasattr(codec, "_decode_sync")


def sync_decode_chain(pipeline: BatchedCodecPipeline, spec: ArraySpec) -> list[tuple[SyncDecode, ArraySpec]]:
    """Every codec's synchronous decode step with the chunk spec it sees, in decode order (bytes->bytes last
    first, then array->bytes, then array->array last first), as ``BatchedCodecPipeline`` resolves them
    (``_codecs_with_resolved_metadata_batched``; each step is the codec's ``_decode_sync``)."""
    aa, (ab, ab_specs), bb = pipeline._codecs_with_resolved_metadata_batched([spec])
    return ([(codec._decode_sync, specs[0]) for codec, specs in bb[::-1]] + [(ab._decode_sync, ab_specs[0])]
            + [(codec._decode_sync, specs[0]) for codec, specs in aa[::-1]])
