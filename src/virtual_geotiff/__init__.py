"""virtual-geotiff: TIFF, GeoTIFF and COG archives as virtual Zarr v3 stores (a VirtualiZarr parser)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("virtual-geotiff")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

from .codecs.fastzlib import use_default_decoders, use_fast_decoders
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
from .limits import Limits
from .parser import VirtualTIFF
from .vrt import VirtualVRT

__all__ = [
    "FailedSourcesError",
    "IncompatibleSourcesError",
    "InvalidArgumentError",
    "LimitExceededError",
    "Limits",
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
    "use_default_decoders",
    "use_fast_decoders",
]
