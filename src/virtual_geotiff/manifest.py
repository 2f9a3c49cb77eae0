"""Assemble a VirtualiZarr ``ManifestArray`` from a chunk layout, a codec plan and a URL.

Paths, offsets and lengths go straight into ``ChunkManifest.from_arrays`` as numpy arrays: no
per-chunk Python objects, and no per-path validation (the URL is normalised once per file).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from virtualizarr.manifests import ChunkManifest, ManifestArray
from virtualizarr.manifests.manifest import validate_and_normalize_path_to_uri
from zarr.core.dtype import parse_data_type
from zarr.core.metadata.v3 import ArrayV3Metadata

from .codecs.mapping import CodecPlan
from .layout import ChunkLayout


def normalize_url(url: str) -> str:
    """The canonical form of a source URL used in every manifest (``file:///abs/path`` for local files)."""
    return validate_and_normalize_path_to_uri(url)


def chunk_manifest(url: str, layout: ChunkLayout) -> ChunkManifest:
    """One manifest entry per chunk; missing chunks (sparse files) get an empty path."""
    paths = np.full(layout.grid_shape, url, dtype=np.dtypes.StringDType())
    paths[layout.missing] = ""
    return ChunkManifest.from_arrays(
        paths=paths,
        offsets=layout.offsets.astype(np.uint64, copy=False),
        lengths=layout.lengths.astype(np.uint64, copy=False),
        validate_paths=False,
    )


def codecs_for_ndim(codecs: list[Any], ndim: int) -> list[Any]:
    """``codecs`` for an array of ``ndim`` dimensions: a ``transpose`` planned for one file's ``(band, y, x)``
    keeps the dimensions a cube puts in front (``time``) where they are, ``[1, 2, 0]`` -> ``[0, 2, 3, 1]``."""
    out = []
    for codec in codecs:
        order = codec.get("configuration", {}).get("order") if isinstance(codec, dict) else None
        if codec.get("name") == "transpose" and order is not None and len(order) < ndim:
            extra = ndim - len(order)
            codec = {**codec, "configuration": {**codec["configuration"],
                                                "order": [*range(extra), *(int(o) + extra for o in order)]}}
        out.append(codec)
    return out


def array_metadata(layout: ChunkLayout, plan: CodecPlan, *, fill_value: Any = None,
                   attributes: dict[str, Any] | None = None) -> ArrayV3Metadata:
    zdtype = parse_data_type(plan.dtype, zarr_format=3)
    return ArrayV3Metadata(
        shape=layout.shape,
        data_type=zdtype,
        chunk_grid={"name": "regular", "configuration": {"chunk_shape": layout.chunks}},
        chunk_key_encoding={"name": "default"},
        fill_value=zdtype.default_scalar() if fill_value is None else fill_value,
        codecs=codecs_for_ndim(list(plan.codecs), len(layout.shape)),
        attributes=attributes or {},
        dimension_names=layout.dims,
        storage_transformers=None,
    )


def manifest_array(url: str, layout: ChunkLayout, plan: CodecPlan, *, fill_value: Any = None,
                   attributes: dict[str, Any] | None = None) -> ManifestArray:
    return ManifestArray(
        metadata=array_metadata(layout, plan, fill_value=fill_value, attributes=attributes),
        chunkmanifest=chunk_manifest(url, layout),
    )
