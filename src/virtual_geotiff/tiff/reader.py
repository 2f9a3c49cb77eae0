"""Read a TIFF's IFDs through async-tiff into plain, picklable ``IfdInfo`` records.

This is the only module that touches async-tiff objects. Everything downstream (layout, codecs,
georeferencing, attributes) works on ``IfdInfo``, so each step has one canonical input and tests can
build ``IfdInfo`` values without a file.
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import CORRUPT_HINT, LimitExceededError, TiffFormatError, UnsupportedTiffError, where
from ..limits import Limits
from ..sources import SourceStamp
from .chain import (
    FIELD_TYPE_SIZES,
    IfdChain,
    RawEntry,
    SubIfdChain,
    check_tag_values,
    walk_ifd_chain,
    walk_sub_ifds,
)
from .repair import present_repaired_ifds
from .source import CachedRangeReader, ReadStats
from .tags import Compression, PlanarConfig, Predictor, SampleFormat, Tag

_FATAL = (KeyboardInterrupt, SystemExit, asyncio.CancelledError, GeneratorExit, MemoryError)


@dataclass(frozen=True)
class GeoTags:
    """The raw georeferencing tags of one IFD; interpreted by ``virtual_geotiff.geo``."""

    model_pixel_scale: tuple[float, ...] | None = None
    model_tiepoint: tuple[float, ...] | None = None
    model_transformation: tuple[float, ...] | None = None
    geo_keys: dict[str, Any] = field(default_factory=dict)
    gdal_nodata: str | None = None
    gdal_metadata: str | None = None
    #: The raw GeoKeyDirectoryTag (34735) and GeoDoubleParamsTag (34736) values: async-tiff's ``geo_keys``
    #: omits keys it does not know (GeogTOWGS84GeoKey, ProjRectifiedGridAngleGeoKey, ...) and the
    #: directory's revision, which ``virtual_geotiff.geo`` needs to refuse or honour them.
    key_directory: tuple[int, ...] | None = None
    double_params: tuple[float, ...] | None = None

    @property
    def is_georeferenced(self) -> bool:
        return bool(self.model_transformation or self.model_tiepoint or self.geo_keys)


@dataclass(frozen=True, eq=False)
class IfdInfo:
    """Everything this library needs to know about one IFD, as plain Python and numpy values."""

    index: int
    width: int
    height: int
    samples_per_pixel: int
    bits_per_sample: int
    sample_format: int
    compression: int
    predictor: int
    planar: int
    photometric: int
    tile_width: int | None
    tile_height: int | None
    rows_per_strip: int
    offsets: np.ndarray  # uint64, as stored (tiles/strips in file order)
    byte_counts: np.ndarray  # uint64
    jpeg_tables: bytes | None = None
    lerc_parameters: tuple[int, ...] | None = None
    subfile_type: int = 0
    extra_samples: tuple[int, ...] = ()
    orientation: int = 1
    fill_order: int = 1
    ycbcr_subsampling: tuple[int, int] = (2, 2)
    colormap: np.ndarray | None = None  # uint16, shape (entries, 3): one (r, g, b) row per index
    geo: GeoTags = field(default_factory=GeoTags)
    tags_present: frozenset[int] = frozenset()

    #: For a SubIFD (tag 330): the main IFD that lists it and its position in that list (``index`` is then
    #: unique across the file, after the main chain's IFDs).
    parent: int | None = None
    sub_index: int = 0

    @property
    def is_tiled(self) -> bool:
        return self.tile_width is not None

    @property
    def name(self) -> str:
        """The array name: ``"2"`` for main IFD 2, ``"0_sub1"`` for SubIFD 1 of IFD 0 (both layouts)."""
        return str(self.index) if self.parent is None else f"{self.parent}_sub{self.sub_index}"


@dataclass(frozen=True, eq=False)
class TiffHeader:
    """A file's header: byte order, BigTIFF flag and the IFDs of its main chain."""

    url: str
    byteorder: str  # "<" little-endian (II) or ">" big-endian (MM)
    bigtiff: bool
    ifds: tuple[IfdInfo, ...]
    stats: ReadStats
    #: ETag / last-modified / size of the object when its header was read (None when the store gave none).
    stamp: SourceStamp | None = None
    #: The images the main IFDs' SubIFDs tags list (OME-TIFF pyramids, DNG previews), one level deep.
    sub_ifds: tuple[IfdInfo, ...] = ()


async def read_tiff_header(store: Any, path: str, url: str, limits: Limits) -> TiffHeader:
    """Read and validate every IFD of the file at ``path`` in ``store`` (``url`` names it in errors).

    One deadline (``limits.timeout_seconds``) covers the whole read: the steps have their own timeouts too,
    but a file on which async-tiff stalls would otherwise cost one timeout per attempt (the fuzz campaign
    found files taking three).
    """
    try:
        return await asyncio.wait_for(_read_tiff_header(store, path, url, limits), limits.timeout_seconds)
    except TimeoutError as exc:
        raise LimitExceededError(
            f"reading the header of {url} took over timeout_seconds={limits.timeout_seconds}s; the file is corrupt "
            "or the store is very slow (raise Limits(timeout_seconds=...) for a slow store)"
        ) from exc


async def _read_tiff_header(store: Any, path: str, url: str, limits: Limits) -> TiffHeader:
    from async_tiff import TIFF

    _settle_async_tiff_at_exit()
    reader = CachedRangeReader(store=store, path=path, url=url, max_bytes=limits.max_header_bytes)
    try:
        chain = await asyncio.wait_for(walk_ifd_chain(reader, limits), limits.timeout_seconds)
        # Just the IFD tables and tag values, wherever they are: async-tiff never reads the pixel bytes.
        await asyncio.wait_for(reader.fetch_regions(chain.regions, limits.prefetch_bytes), limits.timeout_seconds)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{url} does not exist (or is not readable with the registered store); check the "
                                f"path, and the store's bucket, region and credentials") from exc
    except TimeoutError as exc:
        raise TiffFormatError(f"reading the IFD chain of {url} took over {limits.timeout_seconds}s; "
                              f"raise Limits(timeout_seconds=...) for a slow store") from exc
    infos = await _parse_chain(TIFF, path, reader, chain, url, limits)
    sub_infos: tuple[IfdInfo, ...] = ()
    subs = await asyncio.wait_for(walk_sub_ifds(reader, chain, limits), limits.timeout_seconds)
    if subs is not None:
        sub_infos = await _parse_sub_ifds(TIFF, path, reader, subs, url, limits, first_index=len(infos))
    return TiffHeader(url=url, byteorder=chain.byteorder, bigtiff=chain.bigtiff, ifds=infos, stats=reader.stats,
                      stamp=reader.stamp, sub_ifds=sub_infos)


async def _parse_chain(tiff_class: Any, path: str, reader: CachedRangeReader, chain: IfdChain, url: str,
                       limits: Limits) -> tuple[IfdInfo, ...]:
    """async-tiff's parse of the chain ``reader`` presents, repaired where async-tiff would fail."""
    _check_required_tags(chain, url)
    check_tag_values(chain, limits, url)
    await present_repaired_ifds(reader, chain)
    try:
        ifds = await _open_ifds(tiff_class, path, reader, limits)
    except _FATAL:
        raise
    except BaseException as first:  # async-tiff raises plain Exceptions and, on some corrupt files, panics
        # Second chance: without the informational tags async-tiff may fail to parse (non-UTF-8 strings).
        if not await present_repaired_ifds(reader, chain, drop_informational=True):
            raise TiffFormatError(f"async-tiff cannot read the header of {url}: {_describe(first)}; "
                                  f"{CORRUPT_HINT}") from None
        try:
            ifds = await _open_ifds(tiff_class, path, reader, limits)
        except _FATAL:
            raise
        except BaseException as exc:
            raise TiffFormatError(f"async-tiff cannot read the header of {url}: {_describe(exc)}; "
                                  f"{CORRUPT_HINT}") from None
    if len(ifds) != len(chain.offsets):
        raise TiffFormatError(
            f"{url}: async-tiff found {len(ifds)} IFDs where the IFD chain has {len(chain.offsets)}"
        )
    infos = tuple(_ifd_info(ifd, i, chain, url) for i, ifd in enumerate(ifds))
    return tuple([await _with_raw_geo_params(info, chain, reader) for info in infos])


async def _parse_sub_ifds(tiff_class: Any, path: str, reader: CachedRangeReader, subs: SubIfdChain, url: str,
                          limits: Limits, *, first_index: int) -> tuple[IfdInfo, ...]:
    """Parse the SubIFDs with async-tiff (which only walks the main chain) by showing it a view of the file
    whose header points at the first SubIFD and whose SubIFDs are linked into one chain."""
    chain = subs.chain
    view = dataclasses.replace(reader, _patches={}, _synthetic=None)  # shares the fetched bytes and stats
    big, bo = chain.bigtiff, chain.byteorder
    count_size, entry_size, ptr = (8, 20, "Q") if big else (2, 12, "I")
    view.patch(8 if big else 4, struct.pack(bo + ptr, chain.offsets[0]))
    for i, offset in enumerate(chain.offsets):
        nxt = chain.offsets[i + 1] if i + 1 < len(chain.offsets) else 0
        view.patch(offset + count_size + chain.entry_counts[i] * entry_size, struct.pack(bo + ptr, nxt))
    await asyncio.wait_for(view.fetch_regions(chain.regions, limits.prefetch_bytes), limits.timeout_seconds)
    infos = await _parse_chain(tiff_class, path, view, chain, url, limits)
    return tuple(dataclasses.replace(info, index=first_index + i, parent=parent, sub_index=k)
                 for i, (info, (parent, k)) in enumerate(zip(infos, subs.parents, strict=True)))


async def _open_ifds(tiff_class: Any, path: str, reader: CachedRangeReader, limits: Limits) -> list[Any]:
    tiff = await asyncio.wait_for(tiff_class.open(path, store=reader, prefetch=limits.prefetch_bytes),
                                  limits.timeout_seconds)
    return tiff.ifds


def _check_required_tags(chain: IfdChain, url: str) -> None:
    """ImageWidth/ImageLength have no default: an IFD without them is not an image."""
    for i, entries in enumerate(chain.entries):
        missing = [name for tag, name in ((256, "ImageWidth"), (257, "ImageLength")) if tag not in entries]
        if missing:
            raise TiffFormatError(f"{where(url, i)} has no {' or '.join(missing)} tag; the file is corrupt: "
                                  f"{CORRUPT_HINT}")


_EXIT_HOOK: list[bool] = []


def _settle_async_tiff_at_exit() -> None:
    """Give async-tiff's tokio threads a moment at interpreter exit (registered once per process).

    They drop the Python objects of a finished ``TIFF.open`` just after the awaiting coroutine resumes;
    when the interpreter is already finalizing by then, that aborts the process ("PyGILState_Release:
    thread state must be current"), a race seen in about 1 of 4 short CLI runs. A 50 ms pause in an
    ``atexit`` hook (which runs before finalization) removed it in 20 of 20 runs.
    """
    if not _EXIT_HOOK:
        _EXIT_HOOK.append(True)
        atexit.register(time.sleep, 0.05)


_GEO_KEY_DIRECTORY, _GEO_DOUBLE_PARAMS = 34735, 34736


async def _raw_values(entry: RawEntry, fmt: str, chain: IfdChain, reader: CachedRangeReader) -> tuple | None:
    """The values of one SHORT (``H``) or DOUBLE (``d``) entry, read through the header cache."""
    expected = {"H": 3, "d": 12}[fmt]
    if entry.type != expected or entry.count <= 0:
        return None
    size = FIELD_TYPE_SIZES[entry.type] * entry.count
    if size <= len(entry.field):
        data = entry.field[:size]
    else:
        offset = struct.unpack(chain.byteorder + ("Q" if chain.bigtiff else "I"), entry.field)[0]
        data = await reader.read(offset, offset + size)
    if len(data) < size:
        return None  # truncated: async-tiff's parsed keys are all there is
    return struct.unpack(f"{chain.byteorder}{entry.count}{fmt}", data)


async def _with_raw_geo_params(info: IfdInfo, chain: IfdChain, reader: CachedRangeReader) -> IfdInfo:
    entries = chain.entries[info.index]
    if _GEO_KEY_DIRECTORY not in entries:
        return info
    directory = await _raw_values(entries[_GEO_KEY_DIRECTORY], "H", chain, reader)
    doubles = None
    if _GEO_DOUBLE_PARAMS in entries:
        doubles = await _raw_values(entries[_GEO_DOUBLE_PARAMS], "d", chain, reader)
    geo = dataclasses.replace(info.geo, key_directory=directory, double_params=doubles)
    return dataclasses.replace(info, geo=geo)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:300]}"


def _get(ifd: Any, name: str, url: str, index: int) -> Any:
    """One async-tiff property, with its failures turned into TiffFormatError naming the IFD."""
    try:
        return getattr(ifd, name)
    except _FATAL:
        raise
    except BaseException as exc:
        raise TiffFormatError(f"cannot read {name} of {where(url, index)}: {_describe(exc)}; "
                              f"{CORRUPT_HINT}") from None


def _uniform(values: Any, what: str, url: str, index: int) -> int:
    vals = [int(v) for v in (values if isinstance(values, list | tuple) else [values])]
    if not vals:
        raise TiffFormatError(f"{where(url, index)} has an empty {what} tag; {CORRUPT_HINT}")
    if len(set(vals)) != 1:
        raise UnsupportedTiffError(
            f"{where(url, index)} has different {what} per sample ({vals}); Zarr arrays need one data type. "
            "Rewrite the file with one type for all bands (e.g. gdal_translate -ot)"
        )
    return vals[0]


def _inline(entries: dict[int, RawEntry], tag: int, byteorder: str) -> tuple[int, ...] | None:
    entry = entries.get(tag)
    return None if entry is None else entry.inline_values(byteorder)


def _stored(entries: dict[int, RawEntry], tag: int, byteorder: str, parsed: Any, default: int, loc: str) -> int:
    """The stored value of a one-value enumerated tag, else async-tiff's parse of it, else the default.

    async-tiff maps values it does not know to None or to a default (Predictor=12 -> None,
    PlanarConfiguration=65 -> 1): taken from it, a corrupt tag would silently change how pixels decode
    instead of being refused by the layout/codec planning. An entry of another field type (UNDEFINED,
    RATIONAL, ...) is refused: tifffile and async-tiff read such a value differently.
    """
    raw = _inline(entries, tag, byteorder)
    if raw:
        return int(raw[0])
    if tag in entries:  # stored with a field type or count no reader agrees on (libtiff refuses it too)
        entry = entries[tag]
        raise TiffFormatError(
            f"{loc}: tag {tag} is stored as {entry.count} value(s) of field type {entry.type}; TIFF wants one SHORT. "
            "The file is corrupt"
        )
    return int(parsed or default)


def _ifd_info(ifd: Any, index: int, chain: IfdChain, url: str) -> IfdInfo:
    entries = chain.entries[index]
    bo = chain.byteorder
    width = int(_get(ifd, "image_width", url, index))
    height = int(_get(ifd, "image_height", url, index))
    spp = int(_get(ifd, "samples_per_pixel", url, index) or 1)
    bits = _uniform(_get(ifd, "bits_per_sample", url, index) or [1], "BitsPerSample", url, index)
    formats = _get(ifd, "sample_format", url, index) or [SampleFormat.UINT]
    sample_format = _uniform(formats, "SampleFormat", url, index)
    loc = where(url, index)
    compression = _stored(entries, Tag.COMPRESSION, bo, _get(ifd, "compression", url, index), Compression.NONE,
                          loc)
    predictor = _stored(entries, Tag.PREDICTOR, bo, _get(ifd, "predictor", url, index), Predictor.NONE, loc)
    planar = _stored(entries, Tag.PLANAR_CONFIGURATION, bo, _get(ifd, "planar_configuration", url, index),
                     PlanarConfig.CONTIG, loc)
    photometric_raw = _inline(entries, 262, bo)
    photometric = int(photometric_raw[0]) if photometric_raw else -1
    tile_width = _get(ifd, "tile_width", url, index)
    tile_height = _get(ifd, "tile_height", url, index)
    if (tile_width is None) != (tile_height is None):
        raise TiffFormatError(f"{where(url, index)} has only one of TileWidth/TileLength; {CORRUPT_HINT}")
    if tile_width is not None:
        offsets = _get(ifd, "tile_offsets", url, index)
        counts = _get(ifd, "tile_byte_counts", url, index)
        if offsets is None and counts is None:  # early libtiff wrote tiles under the Strip tags
            offsets = _get(ifd, "strip_offsets", url, index)
            counts = _get(ifd, "strip_byte_counts", url, index)
        rows_per_strip = int(tile_height)
    else:
        offsets = _get(ifd, "strip_offsets", url, index)
        counts = _get(ifd, "strip_byte_counts", url, index)
        rps = _get(ifd, "rows_per_strip", url, index)
        rows_per_strip = height if not rps or int(rps) > height else int(rps)
    if offsets is None:
        raise TiffFormatError(f"{where(url, index)} has no {'Tile' if tile_width else 'Strip'}Offsets tag; "
                              f"{CORRUPT_HINT}")
    if counts is None:
        raise TiffFormatError(
            f"{where(url, index)} has no {'Tile' if tile_width else 'Strip'}ByteCounts tag; "
            "virtual references need the byte length of every chunk"
        )
    jpeg_tables = _get(ifd, "jpeg_tables", url, index) if compression == Compression.JPEG else None
    lerc = _get(ifd, "lerc_parameters", url, index) if compression == Compression.LERC else None
    extra = _get(ifd, "extra_samples", url, index) or []
    colormap = _get(ifd, "colormap", url, index) if 320 in entries else None
    subsampling = _inline(entries, Tag.YCBCR_SUBSAMPLING, bo)
    fill_order = _inline(entries, Tag.FILL_ORDER, bo)
    orientation = _inline(entries, Tag.ORIENTATION, bo)
    subfile = _inline(entries, Tag.NEW_SUBFILE_TYPE, bo)
    return IfdInfo(
        index=index,
        width=width,
        height=height,
        samples_per_pixel=spp,
        bits_per_sample=bits,
        sample_format=sample_format,
        compression=compression,
        predictor=predictor,
        planar=planar if spp > 1 else PlanarConfig.CONTIG,
        photometric=photometric,
        tile_width=None if tile_width is None else int(tile_width),
        tile_height=None if tile_height is None else int(tile_height),
        rows_per_strip=rows_per_strip,
        offsets=np.asarray(offsets, dtype=np.uint64),
        byte_counts=np.asarray(counts, dtype=np.uint64),
        jpeg_tables=None if jpeg_tables is None else bytes(jpeg_tables),
        lerc_parameters=None if lerc is None else tuple(int(v) for v in lerc),
        subfile_type=int(subfile[0]) if subfile else 0,
        extra_samples=tuple(int(v) for v in extra),
        orientation=int(orientation[0]) if orientation else 1,
        fill_order=int(fill_order[0]) if fill_order else 1,
        ycbcr_subsampling=(int(subsampling[0]), int(subsampling[1])) if subsampling and len(subsampling) == 2
        else (2, 2),
        colormap=None if colormap is None else np.asarray(colormap, dtype=np.uint16).copy(),
        geo=_geo_tags(ifd, url, index),
        tags_present=frozenset(entries),
    )


def _floats(value: Any) -> tuple[float, ...] | None:
    return None if value is None else tuple(float(v) for v in value)


def _geo_tags(ifd: Any, url: str, index: int) -> GeoTags:
    keys = _get(ifd, "geo_key_directory", url, index)
    geo_keys: dict[str, Any] = {}
    if keys is not None:
        for name in keys:
            try:
                value = keys[name]
            except Exception:
                continue
            if value is not None:
                geo_keys[name] = value
    return GeoTags(
        model_pixel_scale=_floats(_get(ifd, "model_pixel_scale", url, index)),
        model_tiepoint=_floats(_get(ifd, "model_tiepoint", url, index)),
        model_transformation=_floats(_get(ifd, "model_transformation", url, index)),
        geo_keys=geo_keys,
        gdal_nodata=_get(ifd, "gdal_nodata", url, index),
        gdal_metadata=_get(ifd, "gdal_metadata", url, index),
    )
