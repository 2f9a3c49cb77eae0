"""Zarr v3 codecs for TIFF chunks and ``mapping.py``, which plans an IFD's codec chain from its tags.

The codecs define what a store's metadata means (registered as ``zarr.codecs`` entry points, so any zarr-python
process with the package installed decodes them): the image-format codecs share ``image.py``, every other
TIFF-specific codec has its own module, and ``_base.py`` holds what they share. How fast zarr runs them is
``virtual_geotiff.fastread``'s business, not theirs.
"""
