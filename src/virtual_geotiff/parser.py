"""``VirtualTIFF``: the VirtualiZarr parser that maps one TIFF/GeoTIFF/COG to a ``ManifestStore``.

The read contract, one canonical helper per step:
validate arguments (``__init__``) -> read IFDs/tags (``tiff.reader``) -> plan chunk layout (``layout``)
-> choose codec chain (``codecs.registry``) -> assemble metadata (``manifest``) -> ``ManifestStore``.
Multi-file builders call ``read_header`` and ``build_ifd_array`` rather than re-implementing steps.
Configuration lives in ``__init__``, all I/O in ``__call__``: the parser pickles and parallelises.
"""

from __future__ import annotations

from typing import Any, Literal

from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ManifestArray, ManifestGroup, ManifestStore

from . import __version__
from ._sync import run_sync
from .codecs.registry import PORTABLE_CODECS, CodecPlan, plan_codecs, sample_dtype
from .errors import InvalidArgumentError, TiffFormatError
from .layout import ChunkLayout, plan_layout
from .limits import Limits
from .manifest import manifest_array, normalize_url
from .tiff.reader import IfdInfo, TiffHeader, read_tiff_header
from .tiff.tags import Compression

IfdLayout = Literal["flat", "nested"]
_IFD_LAYOUTS = ("flat", "nested")


def resolve(url: str, registry: ObjectStoreRegistry) -> tuple[Any, str]:
    """The store and in-store path for ``url``, with an error that says how to register a store."""
    try:
        store, path = registry.resolve(url)
    except ValueError as exc:
        raise InvalidArgumentError(
            f"no object store is registered for {url}; register one first, e.g. "
            f"ObjectStoreRegistry({{'file://': LocalStore()}}) or {{'s3://bucket': S3Store('bucket')}}"
        ) from exc
    return store, str(path)


async def read_header(url: str, registry: ObjectStoreRegistry, limits: Limits) -> TiffHeader:
    """Read one file's IFDs through the store the registry resolves for ``url``."""
    store, path = resolve(url, registry)
    return await read_tiff_header(store, path, normalize_url(url), limits)


def plan_ifd(ifd: IfdInfo, header: TiffHeader, limits: Limits) -> tuple[ChunkLayout, CodecPlan]:
    """Layout and codec chain of one IFD (the two steps every entry point shares)."""
    dtype = _decoded_dtype(ifd, header.url)
    layout = plan_layout(ifd, header.url, limits, dtype.itemsize)
    plan = plan_codecs(ifd, header.byteorder, layout, header.url)
    return layout, plan


def _decoded_dtype(ifd: IfdInfo, url: str):
    import numpy as np

    if ifd.compression == Compression.JPEG and ifd.bits_per_sample == 12:
        return np.dtype("u2")
    return sample_dtype(ifd, url)


def build_ifd_array(ifd: IfdInfo, header: TiffHeader, limits: Limits) -> tuple[ManifestArray, CodecPlan]:
    layout, plan = plan_ifd(ifd, header, limits)
    return manifest_array(header.url, layout, plan, fill_value=None), plan


def store_attributes(plans: list[CodecPlan]) -> dict[str, Any]:
    """Group attributes that tell any reader which non-standard codecs it needs."""
    custom = sorted({name for plan in plans for name in plan.custom_codecs})
    return {
        "virtual_geotiff": {
            "version": __version__,
            "custom_codecs": custom,
            "portable": not custom,
            "note": "arrays using custom_codecs need `pip install virtual-geotiff` to decode; "
            f"other Zarr readers decode only {sorted(PORTABLE_CODECS)}",
        }
    }


class VirtualTIFF:
    """Parse a TIFF, GeoTIFF or COG into a VirtualiZarr ``ManifestStore`` without copying pixels.

    Parameters
    ----------
    ifd
        Index of the one IFD to expose, or ``None`` (default) for every IFD of the main chain.
    ifd_layout
        ``"flat"``: one array per IFD named ``"0"``, ``"1"``, ... in the root group. ``"nested"``: one
        group per IFD, each holding its array under the same name (a layout ``xarray.DataTree`` opens).
    limits
        Safety caps (IFD count, header bytes, chunks per array, ...) for untrusted files.
    """

    def __init__(self, ifd: int | None = None, ifd_layout: IfdLayout = "flat", *,
                 limits: Limits | None = None) -> None:
        if ifd is not None and (not isinstance(ifd, int) or isinstance(ifd, bool) or ifd < 0):
            raise InvalidArgumentError(f"ifd must be None or a non-negative int, got {ifd!r}")
        if ifd_layout not in _IFD_LAYOUTS:
            raise InvalidArgumentError(f"ifd_layout must be one of {_IFD_LAYOUTS}, got {ifd_layout!r}")
        if limits is not None and not isinstance(limits, Limits):
            raise InvalidArgumentError(f"limits must be a virtual_geotiff.Limits, got {type(limits).__name__}")
        self.ifd = ifd
        self.ifd_layout: IfdLayout = ifd_layout
        self.limits = limits or Limits()

    def __repr__(self) -> str:
        return f"VirtualTIFF(ifd={self.ifd!r}, ifd_layout={self.ifd_layout!r})"

    def __call__(self, url: str, registry: ObjectStoreRegistry) -> ManifestStore:
        header = run_sync(read_header(url, registry, self.limits))
        return ManifestStore(self.build_group(header), registry=registry)

    def selected_ifds(self, header: TiffHeader) -> tuple[IfdInfo, ...]:
        if self.ifd is None:
            return header.ifds
        if self.ifd >= len(header.ifds):
            raise TiffFormatError(
                f"ifd={self.ifd} requested but {header.url} has {len(header.ifds)} IFD(s) "
                f"(valid: 0..{len(header.ifds) - 1})"
            )
        return (header.ifds[self.ifd],)

    def build_group(self, header: TiffHeader) -> ManifestGroup:
        arrays: dict[str, ManifestArray] = {}
        plans: list[CodecPlan] = []
        for ifd in self.selected_ifds(header):
            array, plan = build_ifd_array(ifd, header, self.limits)
            arrays[str(ifd.index)] = array
            plans.append(plan)
        attrs = store_attributes(plans)
        if self.ifd_layout == "flat":
            return ManifestGroup(arrays=arrays, attributes=attrs)
        groups = {name: ManifestGroup(arrays={name: arr}) for name, arr in arrays.items()}
        return ManifestGroup(groups=groups, attributes=attrs)
