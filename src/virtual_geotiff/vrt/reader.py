"""``VirtualVRT``: a GDAL ``.vrt`` mosaic of TIFFs as one stitched virtual array, without reading a pixel.

The read contract, one canonical helper per step:
validate arguments (``__init__``) -> read and parse the XML (``model.parse_vrt``, refusing computed features)
-> resolve each ``SourceFilename`` against the VRT's URL (``paths.source_url``; the registry must know it)
-> read every source header concurrently (``tiff.headers.read_headers``) -> plan each source's IFD
(``arrays.planned.plan_ifd``: chunk layout and codec chain; IFD 0, or n - 1 for ``GTIFF_DIR:n:``) -> check and
crop each placement to whole chunks (``_windows``, ``_block``) -> place them (``stitch.place_blocks``; Zarr
metadata is built once per output array, not per file) -> georeferencing from the VRT (``SRS``/``GeoTransform``),
nodata and attributes (``arrays.attributes.raster_attributes``, ``arrays.coords.georef_arrays``) ->
``ManifestStore``.

What comes out, by design a drop-in for ``VirtualTIFF(ifd=0)`` on a file of the same layout:

- ``bands="stack"`` (default): one array ``"0"``, ``(y, x)`` for a one-band VRT and ``(band, y, x)``
  otherwise, as ``VirtualTIFF`` exposes a TIFF and ``rioxarray.open_rasterio`` the VRT. Bands must share
  dtype and nodata (one Zarr array has one fill value).
- ``bands="separate"``: one ``(y, x)`` array per VRT band, named ``"band_1"``, ``"band_2"``, ..., each
  with its own dtype, nodata, scale/offset and description.

Either way ``spatial_ref``, ``x`` and ``y`` describe the VRT's grid, never the sources' (GDAL ignores the
sources' georeferencing too). Chunks no source covers read as the band's nodata (or 0), as in GDAL.

Exactness rules, each refused with ``UnsupportedVrtError`` naming the element: the source rectangle
starts on a tile boundary of its file and ends on one (or at the file's edge); the destination offset is
a multiple of the tile size; a partial last tile only lands on the VRT's right/bottom edge; no data type
conversion; all sources share tile size and codec chain; sources do not overlap; sparse (missing) source
tiles only where the source's fill equals the VRT's.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ChunkManifest, ManifestArray, ManifestGroup, ManifestStore

from .._sync import run_sync
from ..arrays.attributes import raster_attributes, store_attributes
from ..arrays.coords import InMemoryObjects, georef_arrays
from ..arrays.planned import PlannedIfd, plan_ifd
from ..errors import (
    IncompatibleSourcesError,
    InvalidArgumentError,
    LimitExceededError,
    UnsupportedVrtError,
    VrtFormatError,
)
from ..geo import IfdGeoref
from ..geo.attrs import GdalMetadata, parse_nodata
from ..geo.crs import crs_code
from ..geo.transform import gcp_note, georef_status
from ..limits import Limits
from ..manifest import assembled_array, stack_manifests
from ..stitch import Block, place_blocks
from ..store import GeoManifestStore
from ..tiff.headers import check_concurrency, raise_failed, read_headers, resolve, split_failed
from ..tiff.reader import TiffHeader
from ..urls import normalize_url
from .model import VrtBand, VrtDataset, VrtSource, Window, parse_vrt
from .paths import source_url

BandLayout = Literal["stack", "separate"]
#: A source dataset: file URL and 0-based IFD (``GTIFF_DIR:n:``).
SourceKey = tuple[str, int]
_BAND_LAYOUTS = ("stack", "separate")

@dataclass(frozen=True, eq=False)
class Assembled:
    """One output array's manifest and shape; ``source`` (its first file) gives the codec chain."""

    manifest: ChunkManifest
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dims: tuple[str, ...]
    source: PlannedIfd
    fill: Any

    def array(self, attributes: dict[str, Any]) -> ManifestArray:
        layout = dataclasses.replace(self.source.layout, shape=self.shape, chunks=self.chunks, dims=self.dims)
        return assembled_array(self.manifest, layout, self.source.plan, fill_value=self.fill, attributes=attributes)


async def read_document(url: str, registry: ObjectStoreRegistry, limits: Limits) -> bytes:
    """The VRT's bytes, refusing documents larger than ``limits.max_header_bytes``."""
    store, path = resolve(url, registry)
    result = await store.get_async(path)
    size = int(result.meta["size"])
    if size > limits.max_header_bytes:
        raise LimitExceededError(f"{url} is {size} bytes, more than max_header_bytes={limits.max_header_bytes}; "
                                 "raise Limits(max_header_bytes=...) if the VRT is legitimate")
    return bytes(await result.bytes_async())


def _band_fill(band: VrtBand, vrt: VrtDataset) -> Any:
    """What GDAL reads where no source writes: the band's NoDataValue, else 0."""
    nodata = parse_nodata(band.nodata, band.dtype, where=f"VRTRasterBand {band.number} of {vrt.url}")
    return band.dtype.type(0) if nodata is None else nodata


def _same_fill(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return bool(a == b or (a.dtype.kind in "fc" and np.isnan(a) and np.isnan(b)))


def _windows(source: VrtSource, src_array: PlannedIfd, vrt: VrtDataset) -> tuple[Window, Window]:
    """SrcRect/DstRect with GDAL's defaults (whole source at (0, 0)), checked for exact placement."""
    height, width = src_array.layout.shape[-2:]
    ch, cw = src_array.layout.chunks[-2:]
    src = source.src or Window(0, 0, width, height)
    dst = source.dst or Window(0, 0, src.x_size, src.y_size)
    label, url = source.label, vrt.url

    def refuse(feature: str, what: str) -> UnsupportedVrtError:
        return UnsupportedVrtError(
            f"{label} of {url} needs {feature} ({what}); virtual-geotiff maps only whole tiles placed on tile "
            "boundaries. Rebuild the VRT with gdalbuildvrt over files on one tile-aligned grid, or materialise it "
            "(gdal_translate -of COG)")

    if src.x_off + src.x_size > width or src.y_off + src.y_size > height:
        raise refuse("clipping at the source's edge",
                     f"SrcRect {src} reaches beyond the source's {width} x {height} pixels")
    if dst.x_off + dst.x_size > vrt.width or dst.y_off + dst.y_size > vrt.height:
        raise refuse("clipping at the VRT's edge",
                     f"DstRect {dst} reaches beyond the VRT's {vrt.width} x {vrt.height} pixels")
    if src.x_off % cw or src.y_off % ch:
        raise refuse("partial-chunk placement",
                     f"SrcRect offset ({src.x_off}, {src.y_off}) is not on the source's {cw} x {ch} tile grid")
    if dst.x_off % cw or dst.y_off % ch:
        raise refuse("partial-chunk placement",
                     f"DstRect offset ({dst.x_off}, {dst.y_off}) is not a multiple of the {cw} x {ch} tile size")
    for end, size, edge, vrt_end, vrt_edge, axis in (
        (src.x_off + src.x_size, cw, width, dst.x_off + dst.x_size, vrt.width, "width"),
        (src.y_off + src.y_size, ch, height, dst.y_off + dst.y_size, vrt.height, "height"),
    ):
        if end % size and end != edge:
            raise refuse("partial-chunk placement",
                         f"SrcRect ends at {end} px, inside a tile of {size} px (source {axis} {edge})")
        if end % size and vrt_end != vrt_edge:
            raise refuse("partial-chunk placement",
                         f"the source's partial last tile ({axis} {end} not a multiple of {size}) would land inside "
                         f"the VRT at {vrt_end} px instead of on its edge ({vrt_edge} px)")
    return src, dst


def _block(src_array: PlannedIfd, src: Window, planes: slice | int, fill: Any, label: str, url: str) -> Block:
    """The references of ``src`` (whole tiles) of the given plane(s) of a source.

    ``planes`` is an int (one band of a single-band or band-separate file: a ``(y, x)`` block) or a slice
    (the bands of a pixel-interleaved file: a ``(band, y, x)`` block).
    """
    layout = src_array.layout
    ch, cw = layout.chunks[-2:]
    rows = slice(src.y_off // ch, math.ceil((src.y_off + src.y_size) / ch))
    cols = slice(src.x_off // cw, math.ceil((src.x_off + src.x_size) / cw))
    if layout.offsets.ndim == 2:
        index: tuple[Any, ...] = (rows, cols)
    elif isinstance(planes, int):
        index = (planes, rows, cols)
    else:
        index = (slice(None), rows, cols)
    offsets, lengths = layout.offsets[index], layout.lengths[index]
    if (lengths == 0).any() and not _same_fill(src_array.fill, fill):
        raise UnsupportedVrtError(
            f"{label} of {url}: the source has missing (sparse) tiles, which GDAL reads as the source's fill "
            f"{src_array.fill!r} but the VRT band's fill is {fill!r}; write the source without sparse tiles")
    shape = (layout.shape[0], src.y_size, src.x_size) if offsets.ndim == 3 else (src.y_size, src.x_size)
    return Block(label=label, shape=shape, paths=src_array.url, offsets=np.ascontiguousarray(offsets, np.uint64),
                 lengths=np.ascontiguousarray(lengths, np.uint64))


def _place(entries: list[tuple[Block, PlannedIfd, int, int]], shape: tuple[int, int], fill: Any, vrt: VrtDataset,
           what: str) -> Assembled:
    """Place the blocks (``stitch.place_blocks``) after checking that all sources decode alike."""
    if not entries:
        raise UnsupportedVrtError(f"{what} of {vrt.url} has no source: it is all nodata, which has no byte ranges "
                                  "to reference")
    first = entries[0][1]
    problems: dict[str, list[str]] = {}
    for block, source, _, _ in entries[1:]:
        if source.plane_decode_key != first.plane_decode_key:
            problems.setdefault(block.label, []).append(
                f"dtype, tile size or codecs differ from {entries[0][0].label} ({source.dtype}, tiles "
                f"{source.layout.chunks[-2:]}, codecs {[c.get('name') for c in source.plan.codecs]} vs "
                f"{first.dtype}, {first.layout.chunks[-2:]}, {[c.get('name') for c in first.plan.codecs]})")
    chunks = tuple(first.layout.chunks) if entries[0][0].offsets.ndim == 3 else tuple(first.layout.chunks[-2:])
    try:
        if problems:
            raise IncompatibleSourcesError.from_problems("cannot stitch", problems)
        out_shape, manifest = place_blocks([(b, (), row, col) for b, _, row, col in entries], chunks, shape=shape)
    except IncompatibleSourcesError as exc:
        raise UnsupportedVrtError(f"the sources of {what} of {vrt.url} cannot be placed without computation: "
                                  f"{exc}") from exc
    dims = ("band", "y", "x") if len(out_shape) == 3 else ("y", "x")
    return Assembled(manifest, tuple(out_shape), chunks, dims, first, fill)


def _check_dtype(source: VrtSource, src_array: PlannedIfd, band: VrtBand, vrt: VrtDataset) -> None:
    if src_array.dtype != band.dtype:
        raise UnsupportedVrtError(
            f"{source.label} of {vrt.url} needs data type conversion (source {src_array.dtype}, band "
            f"{band.dtype}); rebuild the VRT with the sources' data type")


def band_array(band: VrtBand, vrt: VrtDataset, sources: dict[SourceKey, PlannedIfd],
               urls: dict[str, SourceKey]) -> Assembled:
    """One VRT band of single-band or band-separate sources as a ``(y, x)`` array."""
    fill = _band_fill(band, vrt)
    entries = []
    for source in band.sources:
        src_array = sources[urls[source.label]]
        _check_dtype(source, src_array, band, vrt)
        if src_array.interleaved:
            raise UnsupportedVrtError(
                f"{source.label} of {vrt.url} takes band {source.band} of a pixel-interleaved file, whose tiles hold "
                "every band; open the VRT with VirtualVRT(bands='stack') when its bands are the files' bands in "
                "order, or rewrite the sources with -co INTERLEAVE=BAND")
        if source.band > src_array.planes:
            raise UnsupportedVrtError(f"{source.label} of {vrt.url} reads SourceBand {source.band} of a file with "
                                      f"{src_array.planes} band(s)")
        src, dst = _windows(source, src_array, vrt)
        block = _block(src_array, src, source.band - 1, fill, source.label, vrt.url)
        entries.append((block, src_array, dst.y_off, dst.x_off))
    return _place(entries, (vrt.height, vrt.width), fill, vrt, f"VRTRasterBand {band.number}")


def interleaved_array(vrt: VrtDataset, sources: dict[SourceKey, PlannedIfd],
                      urls: dict[str, SourceKey]) -> Assembled:
    """All bands of pixel-interleaved sources as one ``(band, y, x)`` array: band ``k`` must read band ``k``
    of the same files at the same places as band 1."""
    first = vrt.bands[0]
    fill = _band_fill(first, vrt)
    for band in vrt.bands[1:]:
        same = len(band.sources) == len(first.sources) and all(
            urls[a.label] == urls[b.label] and (a.src, a.dst) == (b.src, b.dst) and b.band == band.number
            for a, b in zip(first.sources, band.sources))
        if not same or band.dtype != first.dtype or not _same_fill(_band_fill(band, vrt), fill):
            raise UnsupportedVrtError(
                f"VRTRasterBand {band.number} of {vrt.url} does not read band {band.number} of the same "
                "pixel-interleaved files at the same places (dtype and nodata) as band 1; their tiles hold every "
                "band, so bands cannot be recombined. Rewrite the sources with -co INTERLEAVE=BAND")
    entries = []
    for source in first.sources:
        src_array = sources[urls[source.label]]
        _check_dtype(source, src_array, first, vrt)
        if not src_array.interleaved or src_array.planes != len(vrt.bands) or source.band != 1:
            raise UnsupportedVrtError(
                f"{source.label} of {vrt.url}: a VRT over pixel-interleaved files must map its {len(vrt.bands)} "
                f"bands to the files' bands 1..{len(vrt.bands)} in order (this file has {src_array.planes} band(s)"
                f"{', not interleaved' if not src_array.interleaved else ''})")
        src, dst = _windows(source, src_array, vrt)
        block = _block(src_array, src, slice(None), fill, source.label, vrt.url)
        entries.append((block, src_array, dst.y_off, dst.x_off))
    return _place(entries, (vrt.height, vrt.width), fill, vrt, "the VRT's bands")


def stack_bands(arrays: list[Assembled], vrt: VrtDataset) -> Assembled:
    """``(y, x)`` band arrays as one ``(band, y, x)`` array (chunks of one band)."""
    first = arrays[0]
    for band, arr in zip(vrt.bands[1:], arrays[1:]):
        same_decoding = arr.source.plane_decode_key == first.source.plane_decode_key
        if not same_decoding or not _same_fill(arr.fill, first.fill):
            raise UnsupportedVrtError(
                f"VRTRasterBand {band.number} of {vrt.url} differs from band 1 in data type, nodata or codecs, so the "
                "bands cannot share one (band, y, x) array; open it with VirtualVRT(bands='separate')")
    manifest = stack_manifests([a.manifest for a in arrays])
    return Assembled(manifest, (len(arrays), *first.shape), (1, *first.chunks), ("band", "y", "x"), first.source,
                     first.fill)


def vrt_georeference(vrt: VrtDataset) -> IfdGeoref:
    """The VRT's ``SRS`` and ``GeoTransform`` as the georeferencing record the TIFF path uses."""
    import pyproj

    crs = None
    if vrt.srs:
        try:
            crs = pyproj.CRS.from_user_input(vrt.srs)
        except pyproj.exceptions.CRSError as exc:
            raise UnsupportedVrtError(f"SRS of {vrt.url} is not a CRS pyproj understands ({exc})") from exc
        axes = crs.axis_info
        if vrt.axis_mapping is not None and len(axes) >= 2:
            traditional = (2, 1) if axes[0].direction.lower() in ("north", "south") else (1, 2)
            if tuple(vrt.axis_mapping[:2]) != traditional:
                raise UnsupportedVrtError(
                    f"SRS of {vrt.url} has dataAxisToSRSAxisMapping={','.join(map(str, vrt.axis_mapping))}: the "
                    "GeoTransform is not in the traditional GIS (x=east, y=north) axis order")
    transform = vrt.geotransform
    point = transform.point_registered() if transform is not None and vrt.pixel_is_point else None
    note = gcp_note(vrt.gcp_count) if vrt.gcp_count else None
    return IfdGeoref(crs=crs, crs_code=crs_code(crs) if crs is not None else None, vertical_crs=None,
                     transform=transform, point_transform=point, pixel_is_point=vrt.pixel_is_point, gcp_count=0,
                     status=georef_status(transform, crs is not None), note=note)


def _band_metadata(bands: tuple[VrtBand, ...], vrt: VrtDataset) -> GdalMetadata:
    items = {}
    for i, band in enumerate(bands):
        values = dict(band.metadata)
        for key, value in (("SCALE", band.scale), ("OFFSET", band.offset), ("DESCRIPTION", band.description),
                           ("UNITTYPE", band.unit)):
            if value is not None:
                values[key] = value
        items[i] = values
    return GdalMetadata(dataset=dict(vrt.metadata), bands=items)


def _with_attributes(arr: Assembled, bands: tuple[VrtBand, ...], vrt: VrtDataset, georef: IfdGeoref) -> ManifestArray:
    dtype = bands[0].dtype
    nodata = parse_nodata(bands[0].nodata, dtype)
    attrs = raster_attributes(_band_metadata(bands, vrt), nodata, dtype, arr.shape, georef, grid_mapping=True,
                              has_crs_keys=vrt.srs is not None,
                              georeferenced=vrt.srs is not None or vrt.geotransform is not None)
    return arr.array(attrs)


def build_vrt_group(vrt: VrtDataset, headers: dict[str, TiffHeader], urls: dict[str, SourceKey], bands: BandLayout,
                    limits: Limits, memory: InMemoryObjects | None = None) -> ManifestGroup:
    """The store's root group for a parsed VRT whose source headers are read."""
    sources: dict[SourceKey, PlannedIfd] = {}
    for url, ifd_index in dict.fromkeys(urls.values()):
        header = headers[url]
        ifd = next((i for i in header.ifds if i.index == ifd_index), None)
        if ifd is None:
            raise VrtFormatError(f"{vrt.url} reads GTIFF_DIR:{ifd_index + 1} of {url}, which has "
                                 f"{len(header.ifds)} directories")
        sources[url, ifd_index] = plan_ifd(ifd, header, limits)
    georef = vrt_georeference(vrt)
    interleaved = any(s.interleaved for s in sources.values())
    arrays: dict[str, ManifestArray] = {}
    if bands == "separate" or not interleaved:
        per_band = {f"band_{b.number}": band_array(b, vrt, sources, urls) for b in vrt.bands}
        if bands == "separate":
            arrays = {name: _with_attributes(arr, (b,), vrt, georef)
                      for (name, arr), b in zip(per_band.items(), vrt.bands)}
        else:
            stacked = list(per_band.values())
            arr = stacked[0] if len(stacked) == 1 else stack_bands(stacked, vrt)
            arrays = {"0": _with_attributes(arr, vrt.bands, vrt, georef)}
    else:
        arrays = {"0": _with_attributes(interleaved_array(vrt, sources, urls), vrt.bands, vrt, georef)}
    attrs: dict[str, Any] = store_attributes([])
    custom = sorted({c for s in sources.values() for c in s.plan.custom_codecs})
    attrs["virtual_geotiff"].update(custom_codecs=custom, portable=not custom)
    first = next(iter(arrays.values()))
    extra = georef_arrays(georef, first.shape, memory or InMemoryObjects.new(), with_xy=memory is not None)
    if extra:
        attrs["coordinates"] = "spatial_ref"
    return ManifestGroup(arrays={**arrays, **extra}, attributes=attrs)


async def read_vrt(url: str, registry: ObjectStoreRegistry, limits: Limits,
                   concurrency: int) -> tuple[VrtDataset, dict[str, SourceKey], dict[str, TiffHeader]]:
    """Parse the VRT at ``url``, resolve its sources (only inside the prefix the registry serves the VRT from)
    and read their headers.

    Returns the dataset, the ``(URL, IFD)`` of each source element (by label) and the headers by URL.
    """
    vrt = parse_vrt(await read_document(url, registry, limits), url)
    urls: dict[str, SourceKey] = {}
    for band in vrt.bands:
        for source in band.sources:
            urls[source.label] = (source_url(url, source.filename, source.relative, registry, source.label),
                                  source.ifd)
    unique = list(dict.fromkeys(u for u, _ in urls.values()))
    headers, failed = split_failed(await read_headers(unique, registry, limits, concurrency=concurrency))
    raise_failed(failed, alone_as_is=True)  # a VRT needs every source; one failure raises that file's own error
    return vrt, urls, dict(zip(unique, headers))


class VirtualVRT:
    """Parse a GDAL ``.vrt`` mosaic of TIFF/GeoTIFF/COG files into one virtual ``ManifestStore``.

    Parameters
    ----------
    bands
        ``"stack"``: one array ``"0"``, ``(y, x)`` or ``(band, y, x)`` (like ``VirtualTIFF(ifd=0)``);
        ``"separate"``: one ``(y, x)`` array per band, ``"band_1"``, ``"band_2"``, ...
    limits
        Safety caps applied to the VRT document and every source header.
    concurrency
        Source headers read at the same time.
    """

    def __init__(self, bands: BandLayout = "stack", *, limits: Limits | None = None, concurrency: int = 32) -> None:
        if bands not in _BAND_LAYOUTS:
            raise InvalidArgumentError(f"bands must be one of {_BAND_LAYOUTS}, got {bands!r}")
        if limits is not None and not isinstance(limits, Limits):
            raise InvalidArgumentError(f"limits must be a virtual_geotiff.Limits, got {type(limits).__name__}")
        self.concurrency = check_concurrency(concurrency)
        self.bands: BandLayout = bands
        self.limits = limits or Limits()

    def __repr__(self) -> str:
        return f"VirtualVRT(bands={self.bands!r})"

    def __call__(self, url: str, registry: ObjectStoreRegistry) -> ManifestStore:
        url = normalize_url(url)
        vrt, urls, headers = run_sync(read_vrt(url, registry, self.limits, self.concurrency))
        memory = InMemoryObjects.new()
        group = build_vrt_group(vrt, headers, urls, self.bands, self.limits, memory)
        memory.register(registry)
        return GeoManifestStore(group, registry=registry)
