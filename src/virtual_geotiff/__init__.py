"""virtual-geotiff: TIFF, GeoTIFF and COG archives as virtual Zarr v3 stores (a VirtualiZarr parser)."""

from ._version import __version__
from .errors import (
    FailedSourcesError,
    IncompatibleSourcesError,
    InvalidArgumentError,
    LimitExceededError,
    SourceReadError,
    TiffFormatError,
    UnsafeUrlError,
    UnsupportedTiffError,
    UnsupportedVrtError,
    VirtualGeoTiffError,
    VrtFormatError,
)
from .fastread import use_default_decoders, use_fast_decoders
from .geo import GeoreferencingWarning
from .geo.attrs import ScaleOffsetWarning
from .limits import Limits
from .masks import read_masked
from .parser import VirtualTIFF
from .vrt import VirtualVRT

__all__ = [
    "FailedSourcesError",
    "GeoreferencingWarning",
    "IncompatibleSourcesError",
    "InvalidArgumentError",
    "LimitExceededError",
    "Limits",
    "ScaleOffsetWarning",
    "SourceReadError",
    "TiffFormatError",
    "UnsafeUrlError",
    "UnsupportedTiffError",
    "UnsupportedVrtError",
    "VirtualGeoTiffError",
    "VirtualTIFF",
    "VirtualVRT",
    "VrtFormatError",
    "__version__",
    "read_masked",
    "use_default_decoders",
    "use_fast_decoders",
]
