"""Names for the TIFF tag values this library maps, so that no mapping table holds a bare number."""

from __future__ import annotations

from enum import IntEnum


class Compression(IntEnum):
    NONE = 1
    CCITT_RLE = 2
    CCITT_FAX3 = 3
    CCITT_FAX4 = 4
    LZW = 5
    OJPEG = 6
    JPEG = 7
    ADOBE_DEFLATE = 8
    JBIG_BW = 9
    JBIG_COLOR = 10
    NEXT = 32766
    PACKBITS = 32773
    THUNDERSCAN = 32809
    PIXARLOG = 32909
    DEFLATE = 32946
    JPEG2000 = 34712
    LERC = 34887
    SGILOG = 34676
    SGILOG24 = 34677
    LZMA = 34925
    ZSTD_DEPRECATED = 34926
    WEBP_DEPRECATED = 34927
    PNG = 34933
    JPEGXR = 34934
    ZSTD = 50000
    WEBP = 50001
    JPEGXL = 50002
    JPEGXL_DNG = 52546


class Predictor(IntEnum):
    NONE = 1
    HORIZONTAL = 2
    FLOATINGPOINT = 3


class SampleFormat(IntEnum):
    UINT = 1
    INT = 2
    IEEEFP = 3
    VOID = 4
    COMPLEXINT = 5
    COMPLEXIEEEFP = 6


class PlanarConfig(IntEnum):
    CONTIG = 1
    SEPARATE = 2


class Photometric(IntEnum):
    MINISWHITE = 0
    MINISBLACK = 1
    RGB = 2
    PALETTE = 3
    MASK = 4
    SEPARATED = 5
    YCBCR = 6
    CIELAB = 8
    ICCLAB = 9
    ITULAB = 10
    CFA = 32803
    LOGL = 32844
    LOGLUV = 32845
    LINEAR_RAW = 34892


class ExtraSample(IntEnum):
    UNSPECIFIED = 0
    ASSOCALPHA = 1
    UNASSALPHA = 2


class LercAddCompression(IntEnum):
    """Second element of the LercParameters tag (GDAL): compression applied on top of the LERC blob."""

    NONE = 0
    DEFLATE = 1
    ZSTD = 2


class Tag(IntEnum):
    """Tag numbers this library names in code and messages."""

    NEW_SUBFILE_TYPE = 254
    COMPRESSION = 259
    FILL_ORDER = 266
    ORIENTATION = 274
    PLANAR_CONFIGURATION = 284
    PREDICTOR = 317
    SUB_IFDS = 330
    YCBCR_SUBSAMPLING = 530
    LERC_PARAMETERS = 50674


class SubfileType(IntEnum):
    """Bits of NewSubfileType."""

    REDUCED_IMAGE = 1
    PAGE = 2
    MASK = 4


def enum_name(enum: type[IntEnum], value: int) -> str:
    """``"LZW (5)"`` for known values, ``"65000"`` for unknown ones: used in error messages."""
    try:
        return f"{enum(value).name} ({int(value)})"
    except ValueError:
        return str(int(value))
