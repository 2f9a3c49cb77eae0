"""Zarr v3 codecs for TIFF chunks (one per module) and the registry that chooses them."""
