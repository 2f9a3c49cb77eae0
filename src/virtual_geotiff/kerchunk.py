"""Export a virtual dataset (a cube, or ``open_virtual_dataset``'s result) as kerchunk references.

Why a wrapper around VirtualiZarr's ``vz.to_kerchunk``: kerchunk stores Zarr v2 metadata, which has no
place for most of our codecs. VirtualiZarr drops every array->bytes codec and copies the others by name,
so a TIFF predictor, LZW, JPEG or a ``transpose`` (pixel-interleaved bands) would either fail late or give
a reference set that other readers cannot decode. Here every variable's chain is checked first, and the
export is refused naming each variable and codec when it cannot be expressed exactly: only
``bytes`` (either byte order, carried by the v2 dtype) followed by compressors that numcodecs decodes
under the same id (zlib, zstd, gzip, lzma) pass.

Two traps fixed on the way: a scalar (``spatial_ref``) gets the chunk key ``0`` Zarr v2 expects, and Zarr v2's
``fill_value`` is what xarray masks as missing. VirtualiZarr copies
the v3 fill value (0 for files without nodata), which would turn every valid 0 into NaN; arrays without a
``_FillValue`` attribute get ``fill_value: null`` instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from virtualizarr.manifests import ManifestArray

from .errors import InvalidArgumentError, UnsupportedTiffError

#: Codec names (Zarr v3) with an exact Zarr v2 / numcodecs equivalent of the same configuration.
KERCHUNK_CODECS = frozenset({"bytes", "numcodecs.zlib", "zstd", "gzip", "numcodecs.lzma"})

KerchunkFormat = Literal["dict", "json", "parquet"]


class KerchunkExportError(UnsupportedTiffError):
    """A variable uses a codec that kerchunk (Zarr v2 metadata) cannot express."""


def kerchunk_problems(dataset: Any) -> dict[str, list[str]]:
    """``{variable: [codec names]}`` of every virtual variable kerchunk cannot express (empty when all can)."""
    problems: dict[str, list[str]] = {}
    for name, var in dataset.variables.items():
        if isinstance(var.data, ManifestArray):
            names = [c["name"] for c in var.data.metadata.to_dict()["codecs"]]
            bad = [n for n in names if n not in KERCHUNK_CODECS]
            if bad:
                problems[str(name)] = bad
    return problems


#: numcodecs ids of the compressors a chain can end with.
_COMPRESSOR_IDS = frozenset({"zlib", "zstd", "gzip", "lzma"})


def _compressor_last(zarray: dict[str, Any]) -> dict[str, Any]:
    """Move a trailing compressor from ``filters`` to ``compressor``, where Zarr v2 readers expect it.

    VirtualiZarr lists every codec as a filter (``"compressor": null``). zarr-python decodes that the same way,
    but GDAL's Zarr driver (3.12) fails on a ``zlib`` filter ("Filter zlib for tile ... failed"). Decoding is
    unchanged: a v2 reader runs the compressor first, then the filters in reverse.
    """
    filters = list(zarray.get("filters") or [])
    if zarray.get("compressor") is None and filters and filters[-1].get("id") in _COMPRESSOR_IDS:
        zarray["compressor"] = filters.pop()
        zarray["filters"] = filters or None
    return zarray


def to_kerchunk(dataset: Any, filepath: str | Path | None = None, *, format: KerchunkFormat = "dict",
                **kwargs: Any) -> dict[str, Any] | None:
    """Kerchunk references of ``dataset``: a dict (``format="dict"``), or written to ``filepath`` as JSON or
    parquet. Raises ``KerchunkExportError`` naming each variable whose codecs have no Zarr v2 form."""
    if format not in ("dict", "json", "parquet"):
        raise InvalidArgumentError(f"format must be 'dict', 'json' or 'parquet', got {format!r}")
    if format != "dict" and filepath is None:
        raise InvalidArgumentError(f"format={format!r} needs a filepath")
    problems = kerchunk_problems(dataset)
    if problems:
        listed = "; ".join(f"{name}: {', '.join(codecs)}" for name, codecs in problems.items())
        raise KerchunkExportError(
            f"kerchunk (Zarr v2 metadata) cannot express these codecs: {listed}. Kerchunk export works for "
            f"chains of {sorted(KERCHUNK_CODECS)} only (e.g. DEFLATE or ZSTD without predictor, one band per "
            "pixel or separate planes); publish to Icechunk instead, or rewrite the files "
            "(gdal_translate -co COMPRESS=DEFLATE -co PREDICTOR=1 -co INTERLEAVE=BAND)")
    refs = dataset.vz.to_kerchunk(format="dict")
    for name, var in dataset.variables.items():
        if var.ndim == 0 and f"{name}/" in refs["refs"]:
            # VirtualiZarr inlines a scalar under the key "name/"; Zarr v2 names a 0-d array's chunk "0"
            refs["refs"][f"{name}/0"] = refs["refs"].pop(f"{name}/")
        if isinstance(var.data, ManifestArray):
            key = f"{name}/.zarray"
            zarray = _compressor_last(json.loads(refs["refs"][key]))
            if "_FillValue" not in var.attrs:
                zarray["fill_value"] = None
            refs["refs"][key] = json.dumps(zarray, separators=(",", ":"))
    if format == "dict":
        return refs
    if format == "json":
        Path(filepath).write_text(json.dumps(refs))  # type: ignore[arg-type]
        return None
    from kerchunk.df import refs_to_dataframe

    refs_to_dataframe(refs, url=str(filepath), **kwargs)
    return None
