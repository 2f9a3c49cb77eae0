"""GDAL VRT in and out: ``VirtualVRT`` reads a ``.vrt`` mosaic of TIFFs as one stitched virtual array;
``writer`` writes ``.vrt`` files over the original TIFFs of a virtual dataset, for GDAL/QGIS users.

``model`` parses the XML (refusing every feature that needs computation), ``paths`` resolves source
names to URLs, ``reader`` places the sources, ``writer`` goes the other way.
"""

from .model import VrtDataset, parse_vrt
from .reader import VirtualVRT
from .writer import vrt_xml, write_vrts

__all__ = ["VirtualVRT", "VrtDataset", "parse_vrt", "vrt_xml", "write_vrts"]
