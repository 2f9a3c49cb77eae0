"""Plan how an IFD's tiles or strips become one regular Zarr chunk grid, with numpy arrays only.

Dimensions are ``(y, x)`` for one sample per pixel and ``(band, y, x)`` for several, as in the
reference parser. A chunky (pixel-interleaved) chunk holds every band: chunk ``(bands, h, w)``, stored
as ``(h, w, bands)`` and reordered by the ``transpose`` codec. A separate-planes chunk holds one band.
Strips become chunks of ``RowsPerStrip`` rows; a shorter last strip is padded by a codec.
Missing chunks (byte count 0, or offset 0 unless an uncompressed strip: sparse files) get an empty path and read as
the fill value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import CORRUPT_HINT, LimitExceededError, TiffFormatError, where
from .limits import Limits
from .tiff.reader import IfdInfo
from .tiff.tags import Compression, Photometric, PlanarConfig


@dataclass(frozen=True, eq=False)
class ChunkLayout:
    """Array shape, chunk shape and the per-chunk byte ranges of one IFD."""

    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dims: tuple[str, ...]
    offsets: np.ndarray  # uint64, shape = chunk grid
    lengths: np.ndarray  # uint64, shape = chunk grid; 0 where the chunk is missing
    interleaved_samples: int  # samples stored per pixel inside one chunk (bands if chunky, else 1)
    short_last_chunk: bool  # the last strip holds fewer rows than RowsPerStrip

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return self.offsets.shape

    @property
    def missing(self) -> np.ndarray:
        return self.lengths == 0


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def plan_layout(ifd: IfdInfo, url: str, limits: Limits, itemsize: int) -> ChunkLayout:
    """The chunk layout of ``ifd``; raises TiffFormatError when its tags disagree with each other."""
    loc = where(url, ifd.index)
    if ifd.width <= 0 or ifd.height <= 0:
        raise TiffFormatError(f"{loc} has an empty image ({ifd.width} x {ifd.height} pixels); {CORRUPT_HINT}")
    spp = ifd.samples_per_pixel
    if spp <= 0:
        raise TiffFormatError(f"{loc} has SamplesPerPixel={spp}; {CORRUPT_HINT}")
    if spp > 1 and ifd.planar not in (PlanarConfig.CONTIG, PlanarConfig.SEPARATE):
        raise TiffFormatError(f"{loc} has PlanarConfiguration={ifd.planar} (TIFF defines 1 and 2); the file is "
                              f"corrupt: {CORRUPT_HINT}")
    if ifd.is_tiled:
        ch, cw = ifd.tile_height, ifd.tile_width
        if not ch or not cw or ch <= 0 or cw <= 0:
            raise TiffFormatError(f"{loc} has an invalid tile size {cw} x {ch}; {CORRUPT_HINT}")
    else:
        ch, cw = ifd.rows_per_strip, ifd.width
        if ch <= 0:
            raise TiffFormatError(f"{loc} has RowsPerStrip={ch}; {CORRUPT_HINT}")
    down, across = _ceil_div(ifd.height, ch), _ceil_div(ifd.width, cw)
    separate = spp > 1 and ifd.planar == PlanarConfig.SEPARATE
    planes = spp if separate else 1
    expected = planes * down * across
    if expected > limits.max_chunks_per_array:
        raise LimitExceededError(
            f"{loc} would need {expected} chunks (max_chunks_per_array={limits.max_chunks_per_array}); "
            "raise Limits(max_chunks_per_array=...) if the file is legitimate"
        )
    chunk_bytes = ch * cw * (1 if separate else spp) * itemsize
    if chunk_bytes > limits.max_chunk_bytes:
        raise LimitExceededError(
            f"{loc} has chunks of {chunk_bytes} bytes decoded, above Limits.max_chunk_bytes="
            f"{limits.max_chunk_bytes}: a corrupt tile or strip size, or a legitimately huge strip; retile it "
            "(`gdal_translate -co TILED=YES`) or raise the limit: VirtualTIFF(limits=Limits(max_chunk_bytes=...))"
        )
    offsets, lengths = ifd.offsets, ifd.byte_counts
    what = "tiles" if ifd.is_tiled else "strips"
    if offsets.size < expected or lengths.size < expected:
        raise TiffFormatError(
            f"{loc} lists {offsets.size} {what[:-1]} offsets and {lengths.size} byte counts, but its size "
            f"({ifd.width} x {ifd.height}, {what} of {cw} x {ch}, {planes} plane(s)) needs {expected}; "
            f"the file is truncated or corrupt: {CORRUPT_HINT}"
        )
    # Extra entries beyond the grid are ignored, as libtiff and tifffile do.
    offsets, lengths = offsets[:expected], lengths[:expected].copy()
    if ifd.compression != Compression.NONE or ifd.is_tiled:
        # offset 0: a sparse chunk, read as the fill value (libtiff, tifffile). Uncompressed strips GDAL and tifffile
        # read from offset 0 instead (fuzz seed 9102 case 8487; tiles stay sparse, seed 9106 case 769): so do we.
        lengths[offsets == 0] = 0
    if expected == 1 and not ifd.is_tiled and offsets[0] != 0 and lengths[0] == 0:
        # libtiff (so GDAL) reads a one-strip image whose StripByteCounts is 0 as a "bogus" count and estimates
        # it from the image size (uncompressed); reading it as a sparse strip would give zeros where GDAL has data
        if ifd.compression != Compression.NONE:
            raise TiffFormatError(f"{loc} has one compressed strip at offset {int(offsets[0])} with StripByteCounts=0;"
                                  f" its length is unknown: {CORRUPT_HINT}")
        lengths[0] = np.uint64(-(-cw * spp * ifd.bits_per_sample // 8) * ch)
    grid = (planes, down, across)
    offsets = offsets.reshape(grid)
    lengths = lengths.reshape(grid)
    interleaved = 1 if separate else spp
    # Subsampled YCbCr rows are shorter than width x samples (libtiff decodes them: codecs.libtiff).
    if ifd.compression == Compression.NONE and ifd.photometric != Photometric.YCBCR:
        lengths = _check_uncompressed_lengths(ifd, lengths, ch, cw, interleaved, loc)
    if spp == 1:
        shape, chunks, dims = (ifd.height, ifd.width), (ch, cw), ("y", "x")
        offsets, lengths = offsets[0], lengths[0]
    else:
        shape, chunks, dims = (spp, ifd.height, ifd.width), (1 if separate else spp, ch, cw), ("band", "y", "x")
    return ChunkLayout(
        shape=shape,
        chunks=chunks,
        dims=dims,
        offsets=np.ascontiguousarray(offsets),
        lengths=np.ascontiguousarray(lengths),
        interleaved_samples=interleaved,
        short_last_chunk=not ifd.is_tiled and ifd.height % ch != 0,
    )


def check_chunks_in_object(ifd: IfdInfo, layout: ChunkLayout, size: int | None, loc: str) -> None:
    """Refuse chunks whose stored byte range ends past the end of the object (``size`` bytes, when known).

    Such a chunk would read short: padded, it would be zeros presented as pixels; unpadded, a failure
    long after the build. The byte ranges the manifest will reference are checked: for compressed chunks the
    stored byte counts, for uncompressed ones the rows they must hold (longer stored counts are trimmed).
    uint64 arithmetic cannot overflow here because the offset is compared first.
    """
    if size is None:
        return
    # The layout's ranges, in TIFF order: for uncompressed chunks these are already trimmed to the rows the
    # chunk holds, so a StripByteCounts that overstates the data (libtiff and GDAL read such files) passes
    # as long as every referenced byte exists.
    offsets, lengths = layout.offsets.reshape(-1), layout.lengths.reshape(-1)
    size_u = np.uint64(size)
    present = lengths > 0
    past = present & ((offsets > size_u) | (lengths > size_u - np.minimum(offsets, size_u)))
    if past.any():
        index = int(np.flatnonzero(past)[0])
        offset, length = int(offsets[index]), int(lengths[index])
        raise TiffFormatError(
            f"{loc}: chunk {index} (TIFF order) spans bytes {offset}-{offset + length} but the object has only "
            f"{size} bytes ({int(past.sum())} chunk(s) end past it); the file is truncated or its offsets/byte "
            f"counts are corrupt: {CORRUPT_HINT}"
        )


def _check_uncompressed_lengths(ifd: IfdInfo, lengths: np.ndarray, ch: int, cw: int, interleaved: int,
                                loc: str) -> np.ndarray:
    """Uncompressed chunks must hold all their rows: refuse short ones at build time, trim long ones.

    A short uncompressed chunk would otherwise fail only when read; trailing bytes past the last row
    (which libtiff ignores) are cut from the reference so the chunk decodes to exactly its rows.
    """
    row_bytes = -(-cw * interleaved * ifd.bits_per_sample // 8)
    down = lengths.shape[1]
    rows = np.full(down, ch, dtype=np.uint64)
    if not ifd.is_tiled:
        rows[-1] = ifd.height - (down - 1) * ch
    expected = (rows * np.uint64(row_bytes))[None, :, None]
    present = lengths > 0
    short = present & (lengths < expected)
    if short.any():
        plane, row, col = (int(i) for i in np.argwhere(short)[0])
        index = (plane * down + row) * lengths.shape[2] + col
        raise TiffFormatError(
            f"{loc}: uncompressed {'tile' if ifd.is_tiled else 'strip'} {index} holds "
            f"{int(lengths[plane, row, col])} bytes but needs {int(expected[0, row, 0])}; the file is "
            f"truncated or its byte counts are corrupt: {CORRUPT_HINT}"
        )
    return np.where(present, np.minimum(lengths, expected), 0).astype(np.uint64)
