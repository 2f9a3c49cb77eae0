"""The one home of TIFF numbers: tag numbers, field types, the values of enumerated tags, GeoKey ids.

Every module that reads or maps a TIFF tag names it from here, so that no table or message holds a bare
number and a reader can look each name up in the specification it comes from.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag


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


class FillOrder(IntEnum):
    """Bit order within a byte: ``LSB2MSB`` (rare: fax files) needs its bits reversed before decoding."""

    MSB2LSB = 1
    LSB2MSB = 2


class Orientation(IntEnum):
    """Where row 0 and column 0 of the stored image lie; values other than ``TOPLEFT`` are reported, not applied."""

    TOPLEFT = 1
    TOPRIGHT = 2
    BOTRIGHT = 3
    BOTLEFT = 4
    LEFTTOP = 5
    RIGHTTOP = 6
    RIGHTBOT = 7
    LEFTBOT = 8


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
    """Every tag number this library reads or writes (TIFF 6, its technical notes, GeoTIFF 1.1 and GDAL's
    private tags), named after the specification's tag name in upper snake case."""

    NEW_SUBFILE_TYPE = 254
    IMAGE_WIDTH = 256
    IMAGE_LENGTH = 257
    BITS_PER_SAMPLE = 258
    COMPRESSION = 259
    PHOTOMETRIC_INTERPRETATION = 262
    FILL_ORDER = 266
    STRIP_OFFSETS = 273
    ORIENTATION = 274
    SAMPLES_PER_PIXEL = 277
    ROWS_PER_STRIP = 278
    STRIP_BYTE_COUNTS = 279
    PLANAR_CONFIGURATION = 284
    T4_OPTIONS = 292
    T6_OPTIONS = 293
    PREDICTOR = 317
    COLOR_MAP = 320
    TILE_WIDTH = 322
    TILE_LENGTH = 323
    TILE_OFFSETS = 324
    TILE_BYTE_COUNTS = 325
    SUB_IFDS = 330
    EXTRA_SAMPLES = 338
    SAMPLE_FORMAT = 339
    JPEG_TABLES = 347
    # Old-style JPEG (TIFF 6 section 22)
    JPEG_PROC = 512
    JPEG_INTERCHANGE_FORMAT = 513
    JPEG_INTERCHANGE_FORMAT_LENGTH = 514
    JPEG_RESTART_INTERVAL = 515
    JPEG_LOSSLESS_PREDICTORS = 517
    JPEG_POINT_TRANSFORMS = 518
    JPEG_Q_TABLES = 519
    JPEG_DC_TABLES = 520
    JPEG_AC_TABLES = 521
    YCBCR_COEFFICIENTS = 529
    YCBCR_SUBSAMPLING = 530
    YCBCR_POSITIONING = 531
    REFERENCE_BLACK_WHITE = 532
    # GeoTIFF
    MODEL_PIXEL_SCALE = 33550
    MODEL_TIEPOINT = 33922
    MODEL_TRANSFORMATION = 34264
    GEO_KEY_DIRECTORY = 34735
    GEO_DOUBLE_PARAMS = 34736
    GEO_ASCII_PARAMS = 34737
    #: SGILOG's luminance scale (libtiff).
    STO_NITS = 37439
    # GDAL
    GDAL_METADATA = 42112
    GDAL_NODATA = 42113
    LERC_PARAMETERS = 50674


class FieldType(IntEnum):
    """The type code of an IFD entry (TIFF 6 section 2; BigTIFF adds LONG8, SLONG8 and IFD8)."""

    BYTE = 1
    ASCII = 2
    SHORT = 3
    LONG = 4
    RATIONAL = 5
    SBYTE = 6
    UNDEFINED = 7
    SSHORT = 8
    SLONG = 9
    SRATIONAL = 10
    FLOAT = 11
    DOUBLE = 12
    IFD = 13
    LONG8 = 16
    SLONG8 = 17
    IFD8 = 18


class SubfileType(IntFlag):
    """Bits of NewSubfileType: an IFD can be, say, a reduced-resolution mask (``REDUCED_IMAGE | MASK``)."""

    REDUCED_IMAGE = 1
    PAGE = 2
    MASK = 4


class GeoKey(IntEnum):
    """GeoKey ids (GeoTIFF 1.0/1.1), the one table of them.

    A member's name is the key of ``GeoTags.geo_keys`` upper-cased (``GeoKey.PROJECTED_TYPE`` is read as
    ``geo_keys["projected_type"]``, see ``key``); ``label`` is the key's GeoTIFF 1.0 name, which error messages
    and GDAL's listings use.
    """

    label: str

    def __new__(cls, value: int, label: str) -> GeoKey:
        member = int.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @property
    def key(self) -> str:
        """The name of this key in ``GeoTags.geo_keys``."""
        return self.name.lower()

    MODEL_TYPE = 1024, "GTModelTypeGeoKey"
    RASTER_TYPE = 1025, "GTRasterTypeGeoKey"
    CITATION = 1026, "GTCitationGeoKey"
    GEOGRAPHIC_TYPE = 2048, "GeographicTypeGeoKey"
    GEOG_CITATION = 2049, "GeogCitationGeoKey"
    GEOG_GEODETIC_DATUM = 2050, "GeogGeodeticDatumGeoKey"
    GEOG_PRIME_MERIDIAN = 2051, "GeogPrimeMeridianGeoKey"
    GEOG_LINEAR_UNITS = 2052, "GeogLinearUnitsGeoKey"
    GEOG_LINEAR_UNIT_SIZE = 2053, "GeogLinearUnitSizeGeoKey"
    GEOG_ANGULAR_UNITS = 2054, "GeogAngularUnitsGeoKey"
    GEOG_ANGULAR_UNIT_SIZE = 2055, "GeogAngularUnitSizeGeoKey"
    GEOG_ELLIPSOID = 2056, "GeogEllipsoidGeoKey"
    GEOG_SEMI_MAJOR_AXIS = 2057, "GeogSemiMajorAxisGeoKey"
    GEOG_SEMI_MINOR_AXIS = 2058, "GeogSemiMinorAxisGeoKey"
    GEOG_INV_FLATTENING = 2059, "GeogInvFlatteningGeoKey"
    GEOG_AZIMUTH_UNITS = 2060, "GeogAzimuthUnitsGeoKey"
    GEOG_PRIME_MERIDIAN_LONG = 2061, "GeogPrimeMeridianLongGeoKey"
    GEOG_TOWGS84 = 2062, "GeogTOWGS84GeoKey"
    PROJECTED_TYPE = 3072, "ProjectedCSTypeGeoKey"
    PROJ_CITATION = 3073, "PCSCitationGeoKey"
    PROJECTION = 3074, "ProjectionGeoKey"
    PROJ_COORD_TRANS = 3075, "ProjCoordTransGeoKey"
    PROJ_LINEAR_UNITS = 3076, "ProjLinearUnitsGeoKey"
    PROJ_LINEAR_UNIT_SIZE = 3077, "ProjLinearUnitSizeGeoKey"
    PROJ_STD_PARALLEL1 = 3078, "ProjStdParallel1GeoKey"
    PROJ_STD_PARALLEL2 = 3079, "ProjStdParallel2GeoKey"
    PROJ_NAT_ORIGIN_LONG = 3080, "ProjNatOriginLongGeoKey"
    PROJ_NAT_ORIGIN_LAT = 3081, "ProjNatOriginLatGeoKey"
    PROJ_FALSE_EASTING = 3082, "ProjFalseEastingGeoKey"
    PROJ_FALSE_NORTHING = 3083, "ProjFalseNorthingGeoKey"
    PROJ_FALSE_ORIGIN_LONG = 3084, "ProjFalseOriginLongGeoKey"
    PROJ_FALSE_ORIGIN_LAT = 3085, "ProjFalseOriginLatGeoKey"
    PROJ_FALSE_ORIGIN_EASTING = 3086, "ProjFalseOriginEastingGeoKey"
    PROJ_FALSE_ORIGIN_NORTHING = 3087, "ProjFalseOriginNorthingGeoKey"
    PROJ_CENTER_LONG = 3088, "ProjCenterLongGeoKey"
    PROJ_CENTER_LAT = 3089, "ProjCenterLatGeoKey"
    PROJ_CENTER_EASTING = 3090, "ProjCenterEastingGeoKey"
    PROJ_CENTER_NORTHING = 3091, "ProjCenterNorthingGeoKey"
    PROJ_SCALE_AT_NAT_ORIGIN = 3092, "ProjScaleAtNatOriginGeoKey"
    PROJ_SCALE_AT_CENTER = 3093, "ProjScaleAtCenterGeoKey"
    PROJ_AZIMUTH_ANGLE = 3094, "ProjAzimuthAngleGeoKey"
    PROJ_STRAIGHT_VERT_POLE_LONG = 3095, "ProjStraightVertPoleLongGeoKey"
    PROJ_RECTIFIED_GRID_ANGLE = 3096, "ProjRectifiedGridAngleGeoKey"
    VERTICAL = 4096, "VerticalCSTypeGeoKey"
    VERTICAL_CITATION = 4097, "VerticalCitationGeoKey"
    VERTICAL_DATUM = 4098, "VerticalDatumGeoKey"
    VERTICAL_UNITS = 4099, "VerticalUnitsGeoKey"


class RasterType(IntEnum):
    """Values of GTRasterTypeGeoKey: whether the transform refers to pixel corners or pixel centres."""

    PIXEL_IS_AREA = 1
    PIXEL_IS_POINT = 2


def enum_name(enum: type[IntEnum], value: int) -> str:
    """``"LZW (5)"`` for known values, ``"65000"`` for unknown ones: used in error messages."""
    try:
        return f"{enum(value).name} ({int(value)})"
    except ValueError:
        return str(int(value))
