"""Mutation fuzzing of the TIFF parser against tifffile: seed files, structure-aware mutations, an oracle.

Why structure-aware: random byte flips almost always land in pixel data and only test the codecs. The
mutations here target what a parser trusts -- the header, IFD entry tables, next-IFD pointers, offsets and
byte counts, dimensions, tag types and counts -- using a map of where those live in each seed file.

The oracle (``check``) builds the file with ``VirtualTIFF`` from an in-memory object store, reads every
array through zarr and classifies the case:

``ok-equal``
    Every IFD we expose decodes equal (exactly, NaN-aware, same dtype and shape) to tifffile's decode of
    the same page of the same bytes.
``ok-gdal``
    tifffile decodes the page differently, and GDAL (rasterio) decodes it exactly as we do. tifffile is
    not always right on corrupt files: it misplaces the strips after a strip with byte count 0, for one.
``ok-original``
    tifffile cannot decode the page, and ours decodes equal to the unmutated seed (the mutation hit bytes
    we do not use, e.g. a tag we ignore).
``typed-error``
    The build (or a chunk read) raised a ``virtual_geotiff.errors`` exception.
``read-error``
    The build succeeded, reading a chunk failed with a codec/store error, and tifffile fails on that page
    too (corrupt compressed payload: both readers refuse it), or tifffile pads a chunk that decodes short
    (tifffile >= 2026.11 does) while GDAL refuses the page as we do: a chunk of a portable chain
    (zlib/zstd + ``bytes``) that decompresses to the wrong size fails in zarr's own ``bytes`` codec, which
    no virtual-geotiff code runs in.
``unverified``
    tifffile cannot decode the page and ours decodes to something other than the seed. Not necessarily
    wrong (a mutated tag can legitimately change the image), but counted and listed for review.
``mismatch``
    Ours and tifffile both decode the page and the arrays differ: a wrong array.
``untyped-error``
    The build raised something that is not a ``VirtualGeoTiffError``, or a chunk read failed where
    tifffile decodes the page.

Definition of a "wrong array" when the file is corrupt: tifffile is the reference whenever it decodes the
page without raising (its warnings about odd tags are ignored). Where tifffile is more lenient (it reads
what it can of a strip past the end of the file, for example) we must either agree exactly or raise a
typed error -- or agree exactly with GDAL, the second reference, consulted only when tifffile disagrees;
where tifffile refuses, we may refuse in any way, and our data is compared with the seed.

Child processes and resource caps live in ``scripts/fuzz.py``; this module is what a case runs.
"""

from __future__ import annotations

import io
import random
import struct
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

OUTCOMES = ("ok-equal", "ok-gdal", "ok-original", "typed-error", "read-error", "unverified", "mismatch",
            "untyped-error", "crash", "hang", "oom")
#: Outcomes that are bugs (the fuzz campaign must count zero of them).
BAD_OUTCOMES = ("mismatch", "untyped-error", "crash", "hang", "oom")

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8,
               18: 8}
#: Tags whose value the "tag-value" mutation rewrites (the ones a reader interprets).
_KEY_TAGS = (256, 257, 258, 259, 262, 266, 274, 277, 278, 284, 317, 322, 323, 338, 339, 530)
_INTERESTING = (0, 1, 2, 3, 4, 5, 7, 8, 12, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 32767, 32768, 65535,
                2**31 - 1, 2**31, 2**32 - 1)


@dataclass(frozen=True)
class Entry:
    position: int  # byte offset of the 12/20-byte entry
    tag: int
    type: int
    count: int
    value_position: int  # where the value bytes are (inline field or out-of-line offset)
    value_size: int


@dataclass(frozen=True)
class IfdMap:
    offset: int
    count_size: int
    entries: tuple[Entry, ...]
    next_position: int  # where the next-IFD pointer is

    @property
    def end(self) -> int:
        return self.next_position


@dataclass(frozen=True)
class TiffMap:
    """Where the structures of a (well-formed) seed TIFF live."""

    byteorder: str
    bigtiff: bool
    ifds: tuple[IfdMap, ...]

    @property
    def ptr(self) -> str:
        return "Q" if self.bigtiff else "I"

    @property
    def field_size(self) -> int:
        return 8 if self.bigtiff else 4

    def entries(self, tags: tuple[int, ...] | None = None) -> list[Entry]:
        return [e for ifd in self.ifds for e in ifd.entries if tags is None or e.tag in tags]


def map_tiff(data: bytes) -> TiffMap:
    """Map a well-formed TIFF (the seeds only; never used on mutated bytes)."""
    bo = "<" if data[:2] == b"II" else ">"
    bigtiff = struct.unpack(bo + "H", data[2:4])[0] == 43
    if bigtiff:
        first = struct.unpack(bo + "Q", data[8:16])[0]
        cfmt, csize, esize, pfmt, psize = "Q", 8, 20, "Q", 8
    else:
        first = struct.unpack(bo + "I", data[4:8])[0]
        cfmt, csize, esize, pfmt, psize = "H", 2, 12, "I", 4
    ifds = []
    offset = first
    while offset and len(ifds) < 64:
        n = struct.unpack(bo + cfmt, data[offset : offset + csize])[0]
        entries = []
        for i in range(n):
            pos = offset + csize + i * esize
            tag, typ, count = struct.unpack(bo + ("HHQ" if bigtiff else "HHI"), data[pos : pos + esize - psize])
            field_pos = pos + esize - psize
            size = _TYPE_SIZES.get(typ, 1) * count
            value_pos = field_pos if size <= psize else struct.unpack(bo + pfmt, data[field_pos : field_pos + psize])[0]
            entries.append(Entry(pos, tag, typ, count, value_pos, size))
        next_pos = offset + csize + n * esize
        ifds.append(IfdMap(offset, csize, tuple(entries), next_pos))
        offset = struct.unpack(bo + pfmt, data[next_pos : next_pos + psize])[0]
    return TiffMap(bo, bigtiff, tuple(ifds))


# -- seeds ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes
    map: TiffMap
    arrays: tuple[np.ndarray, ...] = field(repr=False)  # tifffile's decode of each page, (band, y, x)


def _page_array(page: Any) -> np.ndarray:
    """tifffile's decode of ``page`` as ``(y, x)`` or ``(band, y, x)``.

    ``buffersize=1`` makes tifffile read each chunk at its own offset: its default consolidated read
    assumes the chunks around one with byte count 0 are back to back, and hands the following chunks
    shifted bytes (checked against GDAL) -- a bug of the reference, not of the file.
    """
    import tifffile

    data = page.asarray(buffersize=1)
    if page.samplesperpixel > 1 and page.planarconfig == tifffile.PLANARCONFIG.CONTIG:
        data = np.moveaxis(data, -1, 0)
    return data


@lru_cache(maxsize=1)
def seeds() -> tuple[Seed, ...]:
    """Small TIFFs covering strips/tiles, both byte orders, BigTIFF, compressions, predictors, planar
    configurations and multi-page chains (each under ~10 kB so a mutation case runs in milliseconds)."""
    import tifffile

    rng = np.random.default_rng(1234)
    u8 = rng.integers(0, 255, (21, 19), dtype=np.uint8)
    u16 = rng.integers(0, 65535, (37, 23), dtype=np.uint16)
    f32 = rng.standard_normal((20, 34)).astype(np.float32)
    rgb = rng.integers(0, 255, (3, 18, 17), dtype=np.uint8)
    specs: list[tuple[str, list[tuple[np.ndarray, dict[str, Any]]], dict[str, Any]]] = [
        ("u8-strips", [(u8, {"rowsperstrip": 8})], {}),
        ("u16-tiles-zlib-be", [(u16, {"tile": (16, 16), "compression": "zlib"})], {"byteorder": ">"}),
        ("f32-strips-lzw-pred3", [(f32, {"rowsperstrip": 6, "compression": "lzw", "predictor": 3})], {}),
        ("u16-tiles-packbits-bigtiff", [(u16, {"tile": (16, 16), "compression": "packbits"})], {"bigtiff": True}),
        ("rgb-contig-tiles", [(np.moveaxis(rgb, 0, -1), {"tile": (16, 16), "photometric": "rgb"})], {}),
        ("rgb-separate-strips-zstd", [(rgb, {"rowsperstrip": 5, "photometric": "rgb", "planarconfig": "separate",
                                             "compression": "zstd"})], {}),
        ("u16-pred2-zlib-be", [(u16, {"rowsperstrip": 10, "compression": "zlib", "predictor": 2})],
         {"byteorder": ">"}),
        ("two-pages", [(u16, {"tile": (16, 16)}), (u8, {"rowsperstrip": 21, "compression": "zlib"})], {}),
    ]
    out = []
    for name, pages, file_kwargs in specs:
        buf = io.BytesIO()
        with tifffile.TiffWriter(buf, **file_kwargs) as tw:
            for data, kwargs in pages:
                kwargs = {"photometric": "minisblack", **kwargs}
                tw.write(data, metadata=None, **kwargs)
        raw = buf.getvalue()
        with tifffile.TiffFile(io.BytesIO(raw)) as tif:
            arrays = tuple(_page_array(p) for p in tif.pages)
        out.append(Seed(name, raw, map_tiff(raw), arrays))
    return tuple(out)


# -- mutations ------------------------------------------------------------------------------------------------
def _put(buf: bytearray, pos: int, fmt: str, value: int, bo: str) -> None:
    size = struct.calcsize(fmt)
    if pos >= 0 and pos + size <= len(buf):
        buf[pos : pos + size] = struct.pack(bo + fmt, value & ((1 << (8 * size)) - 1))


def _entry_field(m: TiffMap, e: Entry) -> int:
    return e.position + (12 if m.bigtiff else 8)


def _set_inline(buf: bytearray, m: TiffMap, e: Entry, typ: int, value: int) -> str:
    """Rewrite ``e`` as one inline value of ``typ`` (SHORT/LONG/LONG8)."""
    _put(buf, e.position + 2, "H", typ, m.byteorder)
    _put(buf, e.position + 4, "Q" if m.bigtiff else "I", 1, m.byteorder)
    fmt = {3: "H", 4: "I", 16: "Q"}[typ]
    field_pos = _entry_field(m, e)
    buf[field_pos : field_pos + m.field_size] = b"\0" * m.field_size
    _put(buf, field_pos, fmt, value, m.byteorder)
    return f"tag {e.tag} := {value} (type {typ})"


def _random_byte(buf: bytearray, lo: int, hi: int, rng: random.Random) -> str:
    hi = min(hi, len(buf))
    if hi <= lo:
        return "noop"
    pos = rng.randrange(lo, hi)
    if rng.random() < 0.5:
        buf[pos] ^= 1 << rng.randrange(8)
    else:
        buf[pos] = rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))
    return f"byte {pos}"


def _ifd_region(m: TiffMap, rng: random.Random) -> tuple[int, int]:
    ifd = rng.choice(m.ifds)
    return ifd.offset, ifd.next_position + m.field_size


def _mut_flip_header(buf, m, rng):
    return _random_byte(buf, 0, 16 if m.bigtiff else 8, rng)


def _mut_flip_ifd(buf, m, rng):
    return _random_byte(buf, *_ifd_region(m, rng), rng)


def _mut_flip_values(buf, m, rng):
    outside = [e for e in m.entries() if e.value_size > m.field_size]
    if not outside:
        return _mut_flip_ifd(buf, m, rng)
    e = rng.choice(outside)
    return f"tag {e.tag} value " + _random_byte(buf, e.value_position, e.value_position + e.value_size, rng)


def _mut_flip_any(buf, m, rng):
    return "; ".join(_random_byte(buf, 0, len(buf), rng) for _ in range(rng.randint(1, 8)))


def _mut_truncate(buf, m, rng):
    lo, hi = _ifd_region(m, rng)
    lo, hi = max(lo - 8, 0), min(hi + 8, len(buf))
    near_ifd = rng.random() < 0.5 and lo < hi
    cut = rng.randrange(lo, hi) if near_ifd else rng.randrange(0, max(len(buf), 1))
    del buf[cut:]
    return f"truncate at {cut}"


def _mut_ifd_loop(buf, m, rng):
    src = rng.choice(m.ifds)
    dst = rng.choice(m.ifds[: m.ifds.index(src) + 1])
    _put(buf, src.next_position, m.ptr, dst.offset, m.byteorder)
    return f"next of IFD@{src.offset} -> IFD@{dst.offset}"


def _mut_next_garbage(buf, m, rng):
    ifd = rng.choice(m.ifds)
    value = rng.choice((len(buf), len(buf) - 1, len(buf) + 100, 2**31, 2**32 - 1, 1, 7, 9,
                        rng.randrange(8, max(len(buf), 9))))
    _put(buf, ifd.next_position, m.ptr, value, m.byteorder)
    return f"next of IFD@{ifd.offset} := {value}"


def _offset_entries(m: TiffMap, tags: tuple[int, ...]) -> list[Entry]:
    return m.entries(tags) or m.entries()


def _mut_offset_past_eof(buf, m, rng, tags=(273, 324)):
    e = rng.choice(_offset_entries(m, tags))
    size = _TYPE_SIZES.get(e.type, 4)
    fmt = {2: "H", 4: "I", 8: "Q"}.get(size, "I")
    i = rng.randrange(max(e.count, 1))
    value = rng.choice((len(buf), len(buf) + 1, len(buf) - 1, 2**31, 2**32 - 1, 2**63, len(buf) * 3))
    _put(buf, e.value_position + i * size, fmt, value, m.byteorder)
    return f"tag {e.tag}[{i}] := {value}"


def _mut_count_past_eof(buf, m, rng):
    return _mut_offset_past_eof(buf, m, rng, tags=(279, 325))


def _mut_count_mismatch(buf, m, rng):
    e = rng.choice(_offset_entries(m, (273, 279, 324, 325)))
    value = rng.choice((0, 1, max(e.count - 1, 0), e.count + 1, e.count * 2, 2**31, 2**32 - 1))
    _put(buf, e.position + 4, "Q" if m.bigtiff else "I", value, m.byteorder)
    return f"count of tag {e.tag} := {value}"


def _mut_absurd_dims(buf, m, rng):
    e = rng.choice(_offset_entries(m, (256, 257, 322, 323, 278)))
    value = rng.choice((2**31, 2**31 - 1, 2**32 - 1, 65535, 65536, 2**20, 1))
    return _set_inline(buf, m, e, 4, value)


def _mut_zero_size(buf, m, rng):
    e = rng.choice(_offset_entries(m, (256, 257)))
    return _set_inline(buf, m, e, rng.choice((3, 4)), 0)


def _mut_unknown_tag(buf, m, rng):
    e = rng.choice(m.entries())
    code = rng.choice((rng.randrange(32768, 65536), rng.randrange(1, 255), 65535, 0))
    _put(buf, e.position, "H", code, m.byteorder)
    return f"tag {e.tag} renamed {code}"


def _mut_wrong_type(buf, m, rng):
    e = rng.choice(m.entries())
    typ = rng.choice((0, 2, 5, 7, 11, 12, 14, 15, 19, 255, 65535, rng.randrange(1, 19)))
    _put(buf, e.position + 2, "H", typ, m.byteorder)
    return f"type of tag {e.tag} := {typ}"


def _mut_tag_value(buf, m, rng):
    e = rng.choice(_offset_entries(m, _KEY_TAGS))
    value = rng.choice(_INTERESTING)
    if e.type in (3, 4, 16) and e.value_size <= m.field_size and rng.random() < 0.7:
        fmt = {3: "H", 4: "I", 16: "Q"}[e.type]
        i = rng.randrange(max(e.count, 1))
        _put(buf, e.value_position + i * struct.calcsize(fmt), fmt, value, m.byteorder)
        return f"tag {e.tag}[{i}] := {value}"
    return _set_inline(buf, m, e, 3 if value < 65536 and rng.random() < 0.5 else 4, value)


def _mut_entry_count(buf, m, rng):
    ifd = rng.choice(m.ifds)
    n = len(ifd.entries)
    value = rng.choice((0, 1, n - 1, n + 1, n + 5, 0xFFFF, 2**32 - 1 if m.bigtiff else 0xFFFF))
    _put(buf, ifd.offset, "Q" if m.bigtiff else "H", value, m.byteorder)
    return f"entry count of IFD@{ifd.offset} := {value}"


MUTATIONS = {
    "flip-header": _mut_flip_header,
    "flip-ifd": _mut_flip_ifd,
    "flip-values": _mut_flip_values,
    "flip-any": _mut_flip_any,
    "truncate": _mut_truncate,
    "ifd-loop": _mut_ifd_loop,
    "next-garbage": _mut_next_garbage,
    "offset-past-eof": _mut_offset_past_eof,
    "count-past-eof": _mut_count_past_eof,
    "count-mismatch": _mut_count_mismatch,
    "absurd-dims": _mut_absurd_dims,
    "zero-size": _mut_zero_size,
    "unknown-tag": _mut_unknown_tag,
    "wrong-type": _mut_wrong_type,
    "tag-value": _mut_tag_value,
    "entry-count": _mut_entry_count,
}


@dataclass(frozen=True)
class Case:
    """One mutated file: which seed, which mutations (with what they did), and the bytes."""

    index: int
    seed: Seed
    mutations: tuple[str, ...]
    data: bytes

    @property
    def description(self) -> str:
        return f"case {self.index} seed={self.seed.name}: " + "; ".join(self.mutations)


def make_case(campaign_seed: int, index: int, *, mutation: str | None = None) -> Case:
    """Case ``index`` of campaign ``campaign_seed`` (deterministic: any process can rebuild it)."""
    rng = random.Random(f"{campaign_seed}:{index}")
    seed = rng.choice(seeds())
    buf = bytearray(seed.data)
    if mutation is not None:
        names = [mutation]
    else:
        names = [rng.choice(tuple(MUTATIONS))]
        while rng.random() < 0.25 and len(names) < 4:  # sometimes stack a few mutations
            names.append(rng.choice(tuple(MUTATIONS)))
    done = []
    for name in names:
        what = MUTATIONS[name](buf, seed.map, rng)
        done.append(f"{name}: {what}")
    return Case(index, seed, tuple(done), bytes(buf))


# -- oracle ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    outcome: str
    detail: str = ""


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Exact, NaN-aware equality of our array ``a`` with a reference ``b``, modulo two conventions of the
    references: tifffile returns 1-bit samples as bool (we widen to uint8, as GDAL does), and gives a single
    separate plane a leading axis of 1."""
    if b.dtype == bool:
        b = b.astype(np.uint8)
    if b.ndim == a.ndim + 1 and b.shape[0] == 1:
        b = b[0]
    elif b.ndim == a.ndim + 1 and b.shape[-1] == 1:
        b = b[..., 0]
    if a.shape != b.shape or a.dtype.newbyteorder("=") != b.dtype.newbyteorder("="):
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _tifffile_pages(data: bytes, count: int) -> list[np.ndarray | BaseException]:
    """tifffile's decode of the first ``count`` pages (an exception where it cannot)."""
    import logging

    import tifffile

    logging.getLogger("tifffile").setLevel(logging.CRITICAL)
    out: list[np.ndarray | BaseException] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with tifffile.TiffFile(io.BytesIO(data)) as tif:
                pages = list(tif.pages)
                for k in range(count):
                    if k >= len(pages):
                        out.append(IndexError(f"tifffile has only {len(pages)} pages"))
                        continue
                    try:
                        out.append(_page_array(pages[k]))
                    except Exception as exc:
                        out.append(exc)
    except Exception as exc:
        out.extend([exc] * (count - len(out)))
    return out


def _gdal_page(data: bytes, k: int) -> np.ndarray | None:
    """GDAL's (rasterio's) decode of page ``k`` as ``(y, x)`` or ``(band, y, x)``; None where GDAL refuses
    the file or rasterio is not installed."""
    try:
        import rasterio
        from rasterio.io import MemoryFile
    except ImportError:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.Env(GTIFF_IGNORE_READ_ERRORS=False, CPL_DEBUG=False), MemoryFile(data) as mem:
                path = f"GTIFF_DIR:{k + 1}:{mem.name}"
                with rasterio.open(path) as ds:
                    arr = ds.read()
    except Exception:
        return None
    return arr[0] if arr.shape[0] == 1 else arr


def check(data: bytes, seed: Seed | None = None, *, limits: Any = None) -> Result:
    """Build ``data`` with ``VirtualTIFF`` from a memory store, read every array, classify (see module doc)."""
    import obstore
    import zarr
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import MemoryStore

    from ..errors import VirtualGeoTiffError
    from ..limits import Limits
    from ..parser import VirtualTIFF

    store = MemoryStore()
    obstore.put(store, "case.tif", data)
    registry = ObjectStoreRegistry({"memory://fuzz": store})
    # The default limits (chunks up to 256 MiB, well inside the campaign workers' 3 GiB address-space cap);
    # a corrupt ImageWidth making a larger chunk is a LimitExceededError.
    parser = VirtualTIFF(ifd_layout="nested", limits=limits or Limits(timeout_seconds=10.0))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            manifest_store = parser(url="memory://fuzz/case.tif", registry=registry)
    except VirtualGeoTiffError as exc:
        return Result("typed-error", f"{type(exc).__name__}: {str(exc)[:200]}")
    except MemoryError:
        return Result("oom", "MemoryError while building")
    except Exception as exc:
        return Result("untyped-error", f"build: {type(exc).__name__}: {str(exc)[:300]}")

    group = zarr.open_group(manifest_store, mode="r", zarr_format=3)
    names = sorted(group.group_keys(), key=int)
    ours: list[np.ndarray | BaseException] = []
    for name in names:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours.append(np.asarray(group[name][name][...]))
        except MemoryError:
            return Result("oom", f"MemoryError reading IFD {name}")
        except Exception as exc:
            ours.append(exc)
    theirs = _tifffile_pages(data, len(ours))
    outcome, details = "ok-equal", []
    rank = {o: i for i, o in enumerate(OUTCOMES)}
    for k, (mine, ref) in enumerate(zip(ours, theirs)):
        if isinstance(mine, VirtualGeoTiffError):
            got, why = "typed-error", f"IFD {k} read: {type(mine).__name__}: {str(mine)[:200]}"
        elif isinstance(mine, BaseException):
            if isinstance(ref, BaseException):
                got, why = "read-error", f"IFD {k}: ours {type(mine).__name__}, tifffile {type(ref).__name__}"
            elif _gdal_page(data, k) is None:
                # tifffile pads a chunk that decodes short (since 2026.11); GDAL (libtiff) refuses it as we do.
                # zarr's own ``bytes`` codec raises that refusal for portable chains (zlib/zstd), untyped.
                got, why = "read-error", f"IFD {k}: ours {type(mine).__name__}, GDAL refuses too, tifffile pads"
            else:
                got, why = "untyped-error", f"IFD {k} read: {type(mine).__name__}: {str(mine)[:300]}"
        elif not isinstance(ref, BaseException) and _equal(mine, ref):
            got, why = "ok-equal", ""
        elif (gdal := _gdal_page(data, k)) is not None and _equal(mine, gdal):
            got, why = "ok-gdal", f"IFD {k}: tifffile {'fails' if isinstance(ref, BaseException) else 'differs'}, " \
                                  "GDAL agrees with ours"
        elif isinstance(ref, BaseException):
            original = seed.arrays[k] if seed is not None and k < len(seed.arrays) else None
            if original is not None and _equal(mine, original):
                got, why = "ok-original", ""
            else:
                got, why = "unverified", (f"IFD {k}: tifffile {type(ref).__name__}: {str(ref)[:120]}; "
                                          f"ours {mine.dtype}{mine.shape}")
        else:
            got, why = "mismatch", (f"IFD {k}: ours {mine.dtype}{mine.shape}, tifffile {ref.dtype}{ref.shape}"
                                    + _first_difference(mine, ref))
        if rank[got] > rank[outcome]:
            outcome = got
        if why:
            details.append(why)
    return Result(outcome, "; ".join(details))


def _first_difference(a: np.ndarray, b: np.ndarray) -> str:
    if a.shape != b.shape:
        return ""
    diff = np.argwhere(~((a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b))
    if not diff.size:
        return ""
    at = tuple(int(i) for i in diff[0])
    return f"; {len(diff)} values differ, first at {at}: ours {a[at]!r}, tifffile {b[at]!r}"


def run(campaign_seed: int, index: int) -> tuple[Case, Result]:
    case = make_case(campaign_seed, index)
    return case, check(case.data, case.seed)


# -- targeted edits for tests ------------------------------------------------------------------------------------
def _entry(m: TiffMap, tag: int, ifd: int) -> Entry:
    found = [e for e in m.ifds[ifd].entries if e.tag == tag]
    if not found:
        raise KeyError(f"tag {tag} not in IFD {ifd}")
    return found[0]


def set_tag(data: bytes, tag: int, value: int, *, typ: int = 4, ifd: int = 0) -> bytes:
    """``data`` with ``tag`` of IFD ``ifd`` rewritten as one inline value of ``typ`` (3 SHORT, 4 LONG)."""
    m, buf = map_tiff(data), bytearray(data)
    _set_inline(buf, m, _entry(m, tag, ifd), typ, value)
    return bytes(buf)


def set_tag_type(data: bytes, tag: int, typ: int, *, ifd: int = 0) -> bytes:
    """``data`` with the field type of ``tag`` changed (values untouched)."""
    m, buf = map_tiff(data), bytearray(data)
    _put(buf, _entry(m, tag, ifd).position + 2, "H", typ, m.byteorder)
    return bytes(buf)


def rename_tag(data: bytes, tag: int, new_code: int, *, ifd: int = 0) -> bytes:
    """``data`` with ``tag`` renamed to ``new_code`` (an unknown tag, or a duplicate of another)."""
    m, buf = map_tiff(data), bytearray(data)
    _put(buf, _entry(m, tag, ifd).position, "H", new_code, m.byteorder)
    return bytes(buf)


def set_array_value(data: bytes, tag: int, index: int, value: int, *, ifd: int = 0) -> bytes:
    """``data`` with entry ``index`` of an offsets/byte-counts style array tag set to ``value``."""
    m, buf = map_tiff(data), bytearray(data)
    e = _entry(m, tag, ifd)
    fmt = {3: "H", 4: "I", 16: "Q"}[e.type]
    _put(buf, e.value_position + index * struct.calcsize(fmt), fmt, value, m.byteorder)
    return bytes(buf)


def set_count(data: bytes, tag: int, count: int, *, ifd: int = 0) -> bytes:
    """``data`` with the value count of ``tag`` changed."""
    m, buf = map_tiff(data), bytearray(data)
    _put(buf, _entry(m, tag, ifd).position + 4, "Q" if m.bigtiff else "I", count, m.byteorder)
    return bytes(buf)


def set_next_ifd(data: bytes, ifd: int, offset: int) -> bytes:
    """``data`` with the next-IFD pointer of IFD ``ifd`` set to ``offset``."""
    m, buf = map_tiff(data), bytearray(data)
    _put(buf, m.ifds[ifd].next_position, m.ptr, offset, m.byteorder)
    return bytes(buf)
