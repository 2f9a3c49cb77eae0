"""``open_virtual_cube``: many GeoTIFFs on one grid as one virtual datacube (stitched and/or stacked).

The publisher's workflow: hundreds to millions of COGs in object storage become one ``xarray.Dataset`` of
VirtualiZarr ``ManifestArray`` variables that Icechunk or kerchunk can publish. Steps, each in one module:

1. **Scan** (``scan``: ``scan_source``, run for every URL on one event loop by ``tiff.headers.read_headers``):
   read the header, pick the IFD (full resolution or ``overview_level``), and plan it with the parser's
   own helpers (``arrays.planned.plan_ifd``: chunk layout + codec chain; ``ifd_georeference``: CRS +
   transform). The result is a small picklable ``arrays.planned.PlannedIfd``; no per-file ``ManifestArray``
   or Zarr metadata is made, which is what makes a build cost little more than its header reads. With
   ``executor=`` the scan runs in batches on other processes or machines (``concurrent.futures`` executors,
   dask ``Client``) and only the entries travel back.
2. **Grid** (``compat``, ``grid``): every file must share dtype, codecs and CRS and lie on one north-up
   grid: same resolution, origins an integral number of pixels apart. The cube's transform is the
   top-left file's; each file's pixel offset follows. Files that do not fit are listed with what differs
   (``IncompatibleSourcesError``). Nothing is ever resampled or mosaicked: overlapping files are an
   error, not a blend.
3. **Curate** (``arguments``, ``stack``, ``assemble.select_bands``, ``grid.bbox_window``): ``bands``
   (1-based, separate-plane files only: a chunky chunk holds every band), ``bbox`` (in CRS units, widened
   outward to whole chunks), ``overview_level`` (rasterio numbering).
4. **Assemble** (``assemble``): per stack position, the files are placed by ``stitch.place_blocks``
   (numpy block assignment of paths/offsets/lengths into one preallocated manifest; chunk-aligned
   offsets, equal dtype/codecs/chunks/fill value, checked per file). Stacking adds a leading dimension
   (``time`` from a filename pattern, a callable or a list; ``band`` from file names). Coordinates
   (``x``/``y``, ``spatial_ref``, the stack coordinate) are computed once for the whole cube as numpy
   arrays, so they are written as real arrays when published.

``build`` runs these steps in order. Bad files: ``on_error="raise"`` (default) reads every header, then
raises ``FailedSourcesError`` listing each failed file and why; ``on_error="skip"`` builds from the good
ones and reports the rest in ``VirtualCube.failed``. Holes in a stitched grid (no file covers a chunk)
read as the fill value (the files' nodata, else 0).
"""

from __future__ import annotations

from .arguments import OnError
from .build import VirtualCube, open_virtual_cube
from .grid import PIXEL_TOLERANCE, RESOLUTION_TOLERANCE
from .scan import scan_batch, scan_source
from .stack import StackValues, resolve_stack_values

__all__ = ["PIXEL_TOLERANCE", "RESOLUTION_TOLERANCE", "OnError", "StackValues", "VirtualCube", "open_virtual_cube",
           "resolve_stack_values", "scan_batch", "scan_source"]
