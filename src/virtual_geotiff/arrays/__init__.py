"""The per-IFD step under every entry point: one IFD planned (``planned``), its attributes (``attributes``),
its coordinates (``coords``) and GDAL's resolution levels with their masks and sidecars (``levels``).

The parser, multiscale groups, the cube builder, the VRT reader and writer and the CLI all build arrays from
these helpers, so one TIFF IFD maps to the same chunks, codecs, fill value and attributes whichever way it
is opened.
"""
