"""The installed distribution's version, in a module of its own so that any layer can import it without
importing the package's public face (``virtual_geotiff/__init__.py``) from below."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("virtual-geotiff")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
