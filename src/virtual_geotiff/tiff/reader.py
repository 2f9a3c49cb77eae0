"""Read a TIFF's IFDs into plain, picklable ``IfdInfo`` records.

One read path for every file: ``tiff.chain`` walks the IFD chain (guarding against loops and absurd
sizes), ``CachedRangeReader.fetch_regions`` fetches every out-of-line tag value in as few requests as
possible (usually none beyond the first prefetch, ``Limits.prefetch_bytes``), and ``tiff.decode`` turns the
entries into ``IfdInfo``.
Everything downstream (layout, codecs, georeferencing, attributes) works on ``IfdInfo``, so each step has
one canonical input and tests can build ``IfdInfo`` values without a file.
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
from .chain import IfdChain, check_tag_values, walk_ifd_chain, walk_sub_ifds
from .decode import EntryValues, enumerated, geo_keys, uniform
from .source import CachedRangeReader, ReadStats
from .tags import Compression, FieldType, Photometric, PlanarConfig, Predictor, SampleFormat, Tag


@dataclass(frozen=True)
class GeoTags:
    """The raw georeferencing tags of one IFD; interpreted by ``virtual_geotiff.geo``."""

    model_pixel_scale: tuple[float, ...] | None = None
    model_tiepoint: tuple[float, ...] | None = None
    model_transformation: tuple[float, ...] | None = None
    geo_keys: dict[str, Any] = field(default_factory=dict)
    gdal_nodata: str | None = None
    gdal_metadata: str | None = None
    #: The raw GeoKeyDirectoryTag and GeoDoubleParamsTag values: ``geo_keys`` holds only the
    #: keys ``tiff.decode.GEO_KEY_NAMES`` names, not GeogTOWGS84GeoKey, ProjRectifiedGridAngleGeoKey or the
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
    #: For IFDs only libtiff decodes (``codecs.libtiff``): the tags that describe one chunk's coding, as
    #: ``(tag, field type, count, value bytes in the file's byte order)``; empty for every other IFD.
    coding_tags: tuple[tuple[int, int, int, bytes], ...] = ()
    #: Old-style JPEG: the file bytes its JPEGInterchangeFormat / JPEGQTables / JPEGDCTables / JPEGACTables
    #: tags point at, concatenated; in ``coding_tags`` those tags then hold offsets into this blob.
    coding_blob: bytes = b""

    #: For a SubIFD (listed in a SubIFDs tag): the main IFD that lists it and its position in that list (``index``
    #: is then unique across the file, after the main chain's IFDs).
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

    One deadline (``limits.timeout_seconds``) covers the whole read (``asyncio.timeout``: unlike ``wait_for``
    it starts no extra task per file).
    """
    try:
        async with asyncio.timeout(limits.timeout_seconds):
            return await _read_tiff_header(store, path, url, limits)
    except TimeoutError as exc:
        raise LimitExceededError(
            f"reading the header of {url} took over timeout_seconds={limits.timeout_seconds}s; the file is corrupt "
            "or the store is very slow (raise Limits(timeout_seconds=...) for a slow store)"
        ) from exc


async def _read_tiff_header(store: Any, path: str, url: str, limits: Limits) -> TiffHeader:
    _settle_store_threads_at_exit()
    reader = CachedRangeReader(store=store, path=path, url=url, max_bytes=limits.max_header_bytes)
    try:
        chain = await walk_ifd_chain(reader, limits)
        # Just the IFD tables and tag values, wherever they are: never the pixel bytes.
        await reader.fetch_regions(chain.regions, limits.prefetch_bytes)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{url} does not exist (or is not readable with the registered store); check the "
                                f"path, and the store's bucket, region and credentials") from exc
    infos = await _with_ojpeg_blobs(_decode_chain(chain, reader, url, limits), reader, chain.byteorder, limits)
    sub_infos: tuple[IfdInfo, ...] = ()
    subs = await walk_sub_ifds(reader, chain, limits)
    if subs is not None:
        await reader.fetch_regions(subs.chain.regions, limits.prefetch_bytes)
        first = len(infos)
        decoded = await _with_ojpeg_blobs(_decode_chain(subs.chain, reader, url, limits), reader, chain.byteorder,
                                          limits)
        sub_infos = tuple(
            dataclasses.replace(info, index=first + i, parent=parent, sub_index=k)
            for i, (info, (parent, k)) in enumerate(zip(decoded, subs.parents, strict=True))
        )
    return TiffHeader(url=url, byteorder=chain.byteorder, bigtiff=chain.bigtiff, ifds=infos, stats=reader.stats,
                      stamp=reader.stamp, sub_ifds=sub_infos)


def _decode_chain(chain: IfdChain, reader: CachedRangeReader, url: str, limits: Limits) -> tuple[IfdInfo, ...]:
    _check_required_tags(chain, url)
    check_tag_values(chain, limits, url)
    return tuple(ifd_info(EntryValues(entries, chain, reader.cached, url, i))
                 for i, entries in enumerate(chain.entries))


def _check_required_tags(chain: IfdChain, url: str) -> None:
    """ImageWidth/ImageLength have no default: an IFD without them is not an image."""
    for i, entries in enumerate(chain.entries):
        missing = [name for tag, name in ((Tag.IMAGE_WIDTH, "ImageWidth"), (Tag.IMAGE_LENGTH, "ImageLength"))
                   if tag not in entries]
        if missing:
            raise TiffFormatError(f"{where(url, i)} has no {' or '.join(missing)} tag; the file is corrupt: "
                                  f"{CORRUPT_HINT}")


_EXIT_HOOK: list[bool] = []


def _settle_store_threads_at_exit() -> None:
    """Give obstore's tokio threads a moment at interpreter exit (registered once per process).

    They drop the Python objects of a finished request just after the awaiting coroutine resumes; when the
    interpreter is already finalizing by then, that aborts the process ("PyGILState_Release: thread state
    must be current"), a race seen in about 1 of 4 short CLI runs. A 50 ms pause in an ``atexit`` hook
    (which runs before finalization) removed it in 20 of 20 runs.
    """
    if not _EXIT_HOOK:
        _EXIT_HOOK.append(True)
        atexit.register(time.sleep, 0.05)


def ifd_info(values: EntryValues) -> IfdInfo:
    """The ``IfdInfo`` of one IFD from its decoded entries (TIFF 6 defaults for absent tags)."""
    url, index, entries = values.url, values.index, values.entries
    width = values.first(Tag.IMAGE_WIDTH, None, "ImageWidth")
    height = values.first(Tag.IMAGE_LENGTH, None, "ImageLength")
    spp = values.first(Tag.SAMPLES_PER_PIXEL, 1, "SamplesPerPixel") or 1
    compression = enumerated(values, Tag.COMPRESSION, Compression.NONE)
    photometric = values.first(Tag.PHOTOMETRIC_INTERPRETATION, -1, "PhotometricInterpretation")
    if compression == Compression.OJPEG and photometric == Photometric.YCBCR and Tag.SAMPLES_PER_PIXEL not in entries:
        spp = 3  # libtiff's OJPEG decoder (and so GDAL) assumes 3 samples for YCbCr when the tag is missing
    bits = uniform(values.ints(Tag.BITS_PER_SAMPLE) or (1,), "BitsPerSample", url, index)
    sample_format = uniform(values.ints(Tag.SAMPLE_FORMAT) or (SampleFormat.UINT,), "SampleFormat", url, index)
    predictor = enumerated(values, Tag.PREDICTOR, Predictor.NONE)
    planar = enumerated(values, Tag.PLANAR_CONFIGURATION, PlanarConfig.CONTIG)
    tile_width = values.first(Tag.TILE_WIDTH, None, "TileWidth")
    tile_height = values.first(Tag.TILE_LENGTH, None, "TileLength")
    if (tile_width is None) != (tile_height is None):
        raise TiffFormatError(f"{where(url, index)} has only one of TileWidth/TileLength; {CORRUPT_HINT}")
    if tile_width is not None:
        offsets, counts = values.array(Tag.TILE_OFFSETS), values.array(Tag.TILE_BYTE_COUNTS)
        if offsets is None and counts is None:  # early libtiff wrote tiles under the Strip tags
            offsets, counts = values.array(Tag.STRIP_OFFSETS), values.array(Tag.STRIP_BYTE_COUNTS)
        rows_per_strip = int(tile_height)
    else:
        offsets, counts = values.array(Tag.STRIP_OFFSETS), values.array(Tag.STRIP_BYTE_COUNTS)
        rps = values.first(Tag.ROWS_PER_STRIP, None, "RowsPerStrip")
        rows_per_strip = height if not rps or rps > height else rps
    if offsets is None:
        raise TiffFormatError(f"{where(url, index)} has no {'Tile' if tile_width else 'Strip'}Offsets tag; "
                              f"{CORRUPT_HINT}")
    if counts is None:
        raise TiffFormatError(
            f"{where(url, index)} has no {'Tile' if tile_width else 'Strip'}ByteCounts tag; "
            "virtual references need the byte length of every chunk"
        )
    colormap = values.ints(Tag.COLOR_MAP)
    subsampling = values.ints(Tag.YCBCR_SUBSAMPLING)
    geo = _geo_tags(values) if not _GEO_TAGS.isdisjoint(entries) else _NO_GEO
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
        tile_width=tile_width,
        tile_height=tile_height,
        rows_per_strip=rows_per_strip,
        offsets=offsets,
        byte_counts=counts,
        jpeg_tables=values.raw(Tag.JPEG_TABLES) if compression == Compression.JPEG else None,
        lerc_parameters=values.ints(Tag.LERC_PARAMETERS) if compression == Compression.LERC else None,
        subfile_type=values.first(Tag.NEW_SUBFILE_TYPE, 0, "NewSubfileType"),
        extra_samples=values.ints(Tag.EXTRA_SAMPLES) or (),
        orientation=values.first(Tag.ORIENTATION, 1, "Orientation"),
        fill_order=values.first(Tag.FILL_ORDER, 1, "FillOrder"),
        ycbcr_subsampling=(subsampling[0], subsampling[1]) if subsampling and len(subsampling) == 2 else (2, 2),
        colormap=None if colormap is None else _colormap(colormap, url, index),
        geo=geo,
        tags_present=frozenset(entries),
        coding_tags=_coding_tags(values, compression) if needs_libtiff(compression, photometric, predictor, bits)
        else (),
    )


def needs_libtiff(compression: int, photometric: int, predictor: int, bits: int) -> bool:
    """True for codings only libtiff decodes exactly as GDAL does (``codecs.libtiff``): CCITT RLE/Fax3/Fax4,
    SGILOG/LogLuv, YCbCr without JPEG (chroma subsampling) and a horizontal predictor on packed samples."""
    return (
        compression in LIBTIFF_COMPRESSIONS
        or (photometric == Photometric.YCBCR and compression not in (Compression.JPEG, Compression.OJPEG))
        or (predictor == Predictor.HORIZONTAL and bits not in (8, 16, 32, 64))
    )


#: Compressions decoded through libtiff (``codecs.libtiff``).
LIBTIFF_COMPRESSIONS = frozenset({Compression.CCITT_RLE, Compression.CCITT_FAX3, Compression.CCITT_FAX4,
                                  Compression.OJPEG, Compression.SGILOG, Compression.SGILOG24})
#: Tags copied verbatim into the one-strip TIFF ``codecs.libtiff`` hands to libtiff: how the samples are coded
#: (Compression, Photometric, FillOrder, T4/T6Options, Predictor, ExtraSamples, YCbCr coefficients,
#: subsampling, positioning, ReferenceBlackWhite, StoNits). Size, strips and sample types are written anew.
_CODING_TAGS: tuple[int, ...] = tuple(int(tag) for tag in (
    Tag.COMPRESSION, Tag.PHOTOMETRIC_INTERPRETATION, Tag.FILL_ORDER, Tag.T4_OPTIONS, Tag.T6_OPTIONS, Tag.PREDICTOR,
    Tag.EXTRA_SAMPLES, Tag.YCBCR_COEFFICIENTS, Tag.YCBCR_SUBSAMPLING, Tag.YCBCR_POSITIONING,
    Tag.REFERENCE_BLACK_WHITE, Tag.STO_NITS))


#: Old-style JPEG's own tags: JPEGProc, JPEGInterchangeFormat(+Length), JPEGRestartInterval, JPEGLosslessPredictors,
#: JPEGPointTransforms, JPEGQTables, JPEGDCTables, JPEGACTables.
_OJPEG_TAGS: tuple[int, ...] = tuple(int(tag) for tag in (
    Tag.JPEG_PROC, Tag.JPEG_INTERCHANGE_FORMAT, Tag.JPEG_INTERCHANGE_FORMAT_LENGTH, Tag.JPEG_RESTART_INTERVAL,
    Tag.JPEG_LOSSLESS_PREDICTORS, Tag.JPEG_POINT_TRANSFORMS, Tag.JPEG_Q_TABLES, Tag.JPEG_DC_TABLES,
    Tag.JPEG_AC_TABLES))
#: The OJPEG tags whose values are file offsets (their bytes go to ``IfdInfo.coding_blob``).
OJPEG_OFFSET_TAGS: tuple[int, ...] = tuple(int(tag) for tag in (
    Tag.JPEG_Q_TABLES, Tag.JPEG_DC_TABLES, Tag.JPEG_AC_TABLES, Tag.JPEG_INTERCHANGE_FORMAT))


def _coding_tags(values: EntryValues, compression: int) -> tuple[tuple[int, int, int, bytes], ...]:
    out = []
    for tag in _CODING_TAGS + (_OJPEG_TAGS if compression == Compression.OJPEG else ()):
        entry = values.entries.get(tag)
        if entry is not None:
            out.append((tag, entry.type, entry.count, values.raw(tag) or b""))
    return tuple(out)


#: Tags that make ``GeoTags``; an IFD with none of them (most overview IFDs) shares one empty ``GeoTags``.
_GEO_TAGS = frozenset({Tag.MODEL_PIXEL_SCALE, Tag.MODEL_TIEPOINT, Tag.MODEL_TRANSFORMATION, Tag.GEO_KEY_DIRECTORY,
                       Tag.GEO_DOUBLE_PARAMS, Tag.GEO_ASCII_PARAMS, Tag.GDAL_METADATA, Tag.GDAL_NODATA})
_NO_GEO = GeoTags()


def _geo_tags(values: EntryValues) -> GeoTags:
    keys, directory, doubles = geo_keys(values)
    return GeoTags(
        model_pixel_scale=values.floats(Tag.MODEL_PIXEL_SCALE),
        model_tiepoint=values.floats(Tag.MODEL_TIEPOINT),
        model_transformation=values.floats(Tag.MODEL_TRANSFORMATION),
        geo_keys=keys,
        gdal_nodata=values.text(Tag.GDAL_NODATA),
        gdal_metadata=values.text(Tag.GDAL_METADATA),
        key_directory=directory,
        double_params=doubles,
    )


def _colormap(values: tuple[int, ...], url: str, index: int) -> np.ndarray:
    """ColorMap is stored as all reds, then all greens, then all blues: one (r, g, b) row per index here."""
    if not values or len(values) % 3:
        raise TiffFormatError(f"{where(url, index)} has a ColorMap of {len(values)} values, not 3 per entry; "
                              f"{CORRUPT_HINT}")
    return np.asarray(values, dtype=np.uint16).reshape(3, -1).T.copy()


async def _with_ojpeg_blobs(infos: tuple[IfdInfo, ...], reader: CachedRangeReader, byteorder: str,
                            limits: Limits) -> tuple[IfdInfo, ...]:
    """Old-style JPEG IFDs with the bytes their offset tags point at (tables, the JPEG header) attached.

    libtiff reads the quantisation and Huffman tables (and the JPEGInterchangeFormat header) from wherever
    these tags point in the file; the one-strip TIFF ``codecs.libtiff`` builds per chunk carries copies, so
    the tags are rewritten to offsets into ``coding_blob``. The JPEGInterchangeFormat header (from its
    offset up to the first chunk) is placed last, so that in the one-strip TIFF it runs straight into the
    chunk, as it does in files where it spans the whole stream.
    """
    if all(info.compression != Compression.OJPEG for info in infos):
        return infos
    out = []
    for info in infos:
        if info.compression == Compression.OJPEG:
            info = await _ojpeg_blobs(info, reader, byteorder, limits)
        out.append(info)
    return tuple(out)


#: Largest Huffman table a DHT-style JPEGDCTables/JPEGACTables entry holds: 16 counts + 256 symbols.
_HUFFMAN_MAX = 16 + 256
_QTABLE = 64


async def _ojpeg_blobs(info: IfdInfo, reader: CachedRangeReader, byteorder: str, limits: Limits) -> IfdInfo:
    loc = where(reader.url, info.index)
    tags = {tag: (typ, count, raw) for tag, typ, count, raw in info.coding_tags}
    blob = bytearray()
    rewritten: dict[int, tuple[int, int, bytes]] = {}
    jif, jif_length, long = Tag.JPEG_INTERCHANGE_FORMAT, Tag.JPEG_INTERCHANGE_FORMAT_LENGTH, int(FieldType.LONG)
    for tag in OJPEG_OFFSET_TAGS[:3]:  # tables: each offset one table
        if tag not in tags:
            continue
        typ, count, raw = tags[tag]
        if typ not in (FieldType.LONG, FieldType.IFD) or count > 16:
            raise TiffFormatError(f"{loc}: old-style JPEG table tag {tag} holds {count} values of type {typ}; "
                                  f"{CORRUPT_HINT}")
        offsets = struct.unpack(f"{byteorder}{count}I", raw[: 4 * count])
        new = []
        for offset in offsets:
            data = await reader.read(offset, offset + (_QTABLE if tag == Tag.JPEG_Q_TABLES else _HUFFMAN_MAX))
            size = _QTABLE if tag == Tag.JPEG_Q_TABLES else 16 + sum(data[:16])
            if len(data) < size:
                raise TiffFormatError(f"{loc}: old-style JPEG table at offset {offset} (tag {tag}) lies past the "
                                      f"end of the file; {CORRUPT_HINT}")
            new.append(len(blob))
            blob += data[:size]
        rewritten[tag] = (long, count, struct.pack(f"{byteorder}{count}I", *new))
    if jif in tags:
        start = struct.unpack(byteorder + "I", tags[jif][2][:4])[0]
        first = int(info.offsets[0]) if info.offsets.size else start
        header = b""
        if 0 < start < first:
            if first - start > limits.max_tag_value_bytes:
                raise LimitExceededError(f"{loc}: the old-style JPEG header at {start} is {first - start} bytes, "
                                         f"above max_tag_value_bytes={limits.max_tag_value_bytes}")
            header = await reader.read(start, first)
        if jif_length in tags and info.offsets.size:
            length = struct.unpack(byteorder + "I", tags[jif_length][2][:4])[0]
            end = first + int(info.byte_counts[0])
            if start + length > end:
                # libtiff decodes from the JPEGInterchangeFormat stream, past the end of the first chunk: the
                # chunk's own bytes are not what GDAL decodes (measured on libtiff's smallliz.tif)
                raise UnsupportedTiffError(
                    f"old-style JPEG in {loc}: its JPEGInterchangeFormat stream (bytes {start}-{start + length}) "
                    f"runs past the end of its first chunk (byte {end}), so a chunk alone does not hold what "
                    "libtiff decodes; rewrite it with `gdal_translate -co COMPRESS=JPEG in.tif out.tif`"
                )
        rewritten[jif] = (long, 1, struct.pack(byteorder + "I", len(blob)))
        blob += header
        rewritten.pop(jif_length, None)
        if jif_length in tags:  # the header plus the chunk: filled in per chunk by the codec
            rewritten[jif_length] = (long, 1, struct.pack(byteorder + "I", len(header)))
    coding = tuple((tag, *rewritten.get(tag, (typ, count, raw))) for tag, (typ, count, raw) in tags.items())
    return dataclasses.replace(info, coding_tags=coding, coding_blob=bytes(blob))
