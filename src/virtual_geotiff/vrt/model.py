"""The GDAL ``.vrt`` XML as plain dataclasses, refusing every feature that needs computation.

Why an allow-list: a VRT can resample, rescale, apply LUTs, composite with nodata, warp or compute bands
with pixel functions, and an element this module does not know may do any of these. Only elements that
place source pixels unchanged (``SimpleSource``/``ComplexSource`` without scaling, LUTs or colour
expansion) or that carry metadata are accepted; anything else raises ``UnsupportedVrtError`` naming the
element, so a VRT is either read exactly as GDAL reads it or refused. Whether the placements are
chunk-aligned is decided later (``vrt.reader``), once the sources' tile sizes are known.

Pure functions over bytes: no I/O here.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import numpy as np

from ..errors import UnsupportedVrtError, VrtFormatError
from ..geo.transform import GeoTransform

#: GDAL data type names of ``VRTRasterBand/@dataType`` and their numpy dtypes.
GDAL_DTYPES: dict[str, str] = {
    "Byte": "uint8", "Int8": "int8", "UInt16": "uint16", "Int16": "int16", "UInt32": "uint32", "Int32": "int32",
    "UInt64": "uint64", "Int64": "int64", "Float16": "float16", "Float32": "float32", "Float64": "float64",
    "CFloat32": "complex64", "CFloat64": "complex128",
}
NUMPY_TO_GDAL: dict[str, str] = {v: k for k, v in GDAL_DTYPES.items()}

#: Children of ``VRTDataset`` that only describe the dataset (``OverviewList`` lists overviews GDAL computes
#: on demand; the virtual store exposes the full resolution only).
_DATASET_CHILDREN = {"SRS", "GeoTransform", "Metadata", "VRTRasterBand", "OverviewList", "GCPList"}
#: Children of ``VRTRasterBand`` that carry metadata only (``Overview`` names pre-computed overviews).
_BAND_METADATA = {"ColorInterp", "Description", "Metadata", "NoDataValue", "HideNoDataValue", "Offset", "Scale",
                  "UnitType", "CategoryNames", "GDALRasterAttributeTable", "Histograms", "Overview"}
_SOURCES = {"SimpleSource", "ComplexSource"}
#: Elements that need computation, with the feature name used in errors.
_COMPUTED = {
    "AveragedSource": "averaging (resampling) source",
    "KernelFilteredSource": "kernel filtering",
    "NoDataFromMaskSource": "nodata from a mask band",
    "ArraySource": "multidimensional array source",
    "ColorTable": "colour table (palette) band",
    "MaskBand": "mask band",
    "PixelFunctionType": "pixel function (derived band)",
    "PixelFunctionLanguage": "pixel function (derived band)",
    "PixelFunctionCode": "pixel function (derived band)",
    "SourceTransferType": "derived band transfer type",
    "LUT": "lookup table (LUT)",
    "ColorTableComponent": "colour table expansion",
    "Exponent": "exponential scaling",
    "SrcMin": "scaling range", "SrcMax": "scaling range", "DstMin": "scaling range", "DstMax": "scaling range",
    "UseMaskBand": "compositing through the source's mask band",
}
#: ``GTIFF_DIR:n:path``: GDAL's name for the n-th (1-based) directory of a TIFF.
_GTIFF_DIR = re.compile(r"^GTIFF_DIR:(\d+):(.+)$")
_SOURCE_CHILDREN = {"SourceFilename", "SourceBand", "SourceProperties", "SrcRect", "DstRect", "OpenOptions"}
_COMPLEX_CHILDREN = _SOURCE_CHILDREN | {"NODATA", "ScaleOffset", "ScaleRatio", "UseMaskBand"}


@dataclass(frozen=True)
class Window:
    """A pixel rectangle (``SrcRect``/``DstRect``)."""

    x_off: int
    y_off: int
    x_size: int
    y_size: int


@dataclass(frozen=True)
class VrtSource:
    """One ``SimpleSource``/``ComplexSource``: which band of which file lands where."""

    label: str  # "VRTRasterBand 1, ComplexSource 3 (tile_0_1.tif)": names the element in every error
    filename: str
    relative: bool  # SourceFilename/@relativeToVRT
    band: int  # 1-based SourceBand
    src: Window | None  # None: the whole source
    dst: Window | None  # None: the source's own size at (0, 0)
    ifd: int = 0  # 0-based IFD of the main chain (GDAL's ``GTIFF_DIR:n:file`` opens IFD n - 1)


@dataclass(frozen=True)
class VrtBand:
    number: int  # 1-based
    dtype: np.dtype
    nodata: str | None  # NoDataValue text (parsed against the dtype by geo.attrs.parse_nodata)
    sources: tuple[VrtSource, ...]
    description: str | None = None
    unit: str | None = None
    scale: str | None = None
    offset: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VrtDataset:
    url: str
    width: int
    height: int
    srs: str | None
    axis_mapping: tuple[int, ...] | None  # SRS/@dataAxisToSRSAxisMapping
    geotransform: GeoTransform | None
    gcp_count: int
    bands: tuple[VrtBand, ...]
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def pixel_is_point(self) -> bool:
        return self.metadata.get("AREA_OR_POINT", "").lower() == "point"


def _unsupported(url: str, element: str, feature: str, what: str = "") -> UnsupportedVrtError:
    detail = f" ({what})" if what else ""
    return UnsupportedVrtError(
        f"{element} of {url} uses {feature}{detail}, which needs computation: virtual-geotiff only maps VRTs "
        "whose sources place tiles unchanged on chunk-aligned offsets. Materialise the VRT instead "
        "(gdal_translate -of COG in.vrt out.tif) or rebuild it with gdalbuildvrt over aligned, equally tiled files"
    )


def _int(url: str, element: str, name: str, text: str | None, *, minimum: int = 0) -> int:
    try:
        value = float(text) if text is not None else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise VrtFormatError(f"{element} of {url} has {name}={text!r}, expected a number")
    if value != int(value):
        raise _unsupported(url, element, "sub-pixel placement (resampling)", f"{name}={text}")
    if value < minimum:
        raise VrtFormatError(f"{element} of {url} has {name}={text!r}, expected at least {minimum}")
    return int(value)


def _window(url: str, element: str, node: ET.Element | None) -> Window | None:
    if node is None:
        return None
    label = f"{element}/{node.tag}"
    return Window(*(_int(url, label, key, node.get(key), minimum=minimum)
                    for key, minimum in (("xOff", 0), ("yOff", 0), ("xSize", 1), ("ySize", 1))))


def _metadata(node: ET.Element) -> dict[str, str]:
    """Default-domain ``<Metadata><MDI key=...>`` items of one element."""
    items: dict[str, str] = {}
    for meta in node.findall("Metadata"):
        if meta.get("domain"):
            continue
        for mdi in meta.findall("MDI"):
            key = mdi.get("key")
            if key:
                items[key] = mdi.text or ""
    return items


def _signed_byte(node: ET.Element) -> bool:
    for meta in node.findall("Metadata"):
        if meta.get("domain") == "IMAGE_STRUCTURE":
            for mdi in meta.findall("MDI"):
                if mdi.get("key") == "PIXELTYPE" and (mdi.text or "").strip().upper() == "SIGNEDBYTE":
                    return True
    return False


def _same_value(a: str, b: str | None) -> bool:
    """NODATA equal to the band's NoDataValue (or 0 without one): GDAL then writes nothing different."""
    try:
        x, y = float(a), float(b if b is not None else "0")
    except ValueError:
        return False
    return x == y or (math.isnan(x) and math.isnan(y))


def _number(url: str, element: str, node: ET.Element | None) -> float | None:
    if node is None:
        return None
    try:
        return float((node.text or "").strip())
    except ValueError as exc:
        raise VrtFormatError(f"{element}/{node.tag} of {url} is {node.text!r}, expected a number") from exc


def _parse_source(url: str, node: ET.Element, label: str, band_nodata: str | None) -> VrtSource:
    allowed = _COMPLEX_CHILDREN if node.tag == "ComplexSource" else _SOURCE_CHILDREN
    for child in node:
        if child.tag in _COMPUTED:
            if child.tag == "UseMaskBand" and (child.text or "").strip().lower() in ("false", "0", "no", "off"):
                continue
            raise _unsupported(url, f"{label}/{child.tag}", _COMPUTED[child.tag])
        if child.tag not in allowed:
            raise _unsupported(url, f"{label}/{child.tag}", f"the element <{child.tag}>", "not known to be a no-op")
    scale_offset = _number(url, label, node.find("ScaleOffset"))
    scale_ratio = _number(url, label, node.find("ScaleRatio"))
    if (scale_offset not in (None, 0.0)) or (scale_ratio not in (None, 1.0)):
        raise _unsupported(url, label, "scaling", f"ScaleOffset={scale_offset}, ScaleRatio={scale_ratio}")
    nodata = node.find("NODATA")
    if nodata is not None and not _same_value((nodata.text or "").strip(), band_nodata):
        raise _unsupported(url, f"{label}/NODATA", "nodata compositing",
                           f"source NODATA {nodata.text!r} differs from the band's NoDataValue {band_nodata!r}")
    options = node.find("OpenOptions")
    if options is not None and len(options):
        keys = ", ".join(o.get("key") or "?" for o in options)
        raise _unsupported(url, f"{label}/OpenOptions", "source open options", keys)
    fname = node.find("SourceFilename")
    if fname is None or not (fname.text or "").strip():
        raise VrtFormatError(f"{label} of {url} has no SourceFilename")
    filename = (fname.text or "").strip()
    label = f"{label} ({filename})"
    band_text = (node.findtext("SourceBand") or "1").strip()
    if band_text.lower().startswith("mask"):
        raise _unsupported(url, f"{label}/SourceBand", "a mask band as source", band_text)
    band = _int(url, f"{label}/SourceBand", "SourceBand", band_text, minimum=1)
    src = _window(url, label, node.find("SrcRect"))
    dst = _window(url, label, node.find("DstRect"))
    if (src is None) != (dst is None):
        raise VrtFormatError(f"{label} of {url} has only one of SrcRect and DstRect; give both or neither")
    if src is not None and dst is not None and (src.x_size, src.y_size) != (dst.x_size, dst.y_size):
        raise _unsupported(url, label, "resampling",
                           f"SrcRect {src.x_size} x {src.y_size} scaled to DstRect {dst.x_size} x {dst.y_size}")
    relative = (fname.get("relativeToVRT") or "0").strip() in ("1", "true")
    ifd = 0
    match = _GTIFF_DIR.match(filename)
    if match:
        ifd, filename = int(match.group(1)) - 1, match.group(2)
        if ifd < 0:
            raise VrtFormatError(f"{label} of {url}: GTIFF_DIR numbers directories from 1")
    elif re.match(r"^[A-Z][A-Z0-9_]+:", filename) and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", filename):
        raise _unsupported(url, f"{label}/SourceFilename", "a GDAL driver-prefixed dataset name", filename)
    return VrtSource(label=label, filename=filename, relative=relative, band=band, src=src, dst=dst, ifd=ifd)


def _parse_band(url: str, node: ET.Element, index: int) -> VrtBand:
    number = _int(url, f"VRTRasterBand {index}", "band", node.get("band") or str(index), minimum=1)
    label = f"VRTRasterBand {number}"
    subclass = node.get("subClass")
    if subclass not in (None, "VRTSourcedRasterBand"):
        raise _unsupported(url, label, f"subClass={subclass}",
                           "derived bands compute pixels" if "Derived" in subclass else "not a sourced band")
    type_name = node.get("dataType") or "Byte"
    if type_name not in GDAL_DTYPES:
        raise _unsupported(url, label, f"dataType={type_name}", "no numpy equivalent")
    dtype = np.dtype(GDAL_DTYPES[type_name])
    if type_name == "Byte" and _signed_byte(node):
        raise _unsupported(url, label, "PIXELTYPE=SIGNEDBYTE", "GDAL < 3.7 signed bytes")
    hide = (node.findtext("HideNoDataValue") or "0").strip()
    if hide not in ("0", "false"):
        raise _unsupported(url, f"{label}/HideNoDataValue", "a hidden nodata value", hide)
    nodata_text = node.findtext("NoDataValue")
    nodata = nodata_text.strip() if nodata_text is not None and nodata_text.strip() else None
    sources = []
    for child in node:
        if child.tag in _SOURCES:
            sources.append(_parse_source(url, child, f"{label}, {child.tag} {len(sources) + 1}", nodata))
        elif child.tag in _COMPUTED:
            raise _unsupported(url, f"{label}/{child.tag}", _COMPUTED[child.tag])
        elif child.tag not in _BAND_METADATA:
            raise _unsupported(url, f"{label}/{child.tag}", f"the element <{child.tag}>", "not known to be a no-op")

    def text(tag: str) -> str | None:
        value = node.findtext(tag)
        return value.strip() if value is not None and value.strip() else None

    return VrtBand(number=number, dtype=dtype, nodata=nodata, sources=tuple(sources),
                   description=text("Description"), unit=text("UnitType"), scale=text("Scale"),
                   offset=text("Offset"), metadata=_metadata(node))


def parse_vrt(data: bytes, url: str) -> VrtDataset:
    """The dataset a ``.vrt`` file describes; raises ``VrtFormatError`` / ``UnsupportedVrtError``."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise VrtFormatError(f"{url} declares a DOCTYPE or entities; GDAL VRTs never do, so it is refused")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise VrtFormatError(f"{url} is not well-formed XML ({exc}); is it a GDAL .vrt file?") from exc
    if root.tag != "VRTDataset":
        raise VrtFormatError(f"{url} has root element <{root.tag}>, expected <VRTDataset> (a GDAL .vrt file)")
    subclass = root.get("subClass")
    if subclass:
        raise _unsupported(url, "VRTDataset", f"subClass={subclass}",
                           "warped, pansharpened and processed VRTs compute their pixels")
    width = _int(url, "VRTDataset", "rasterXSize", root.get("rasterXSize"), minimum=1)
    height = _int(url, "VRTDataset", "rasterYSize", root.get("rasterYSize"), minimum=1)
    for child in root:
        if child.tag in _COMPUTED:
            raise _unsupported(url, f"VRTDataset/{child.tag}", _COMPUTED[child.tag])
        if child.tag not in _DATASET_CHILDREN:
            raise _unsupported(url, f"VRTDataset/{child.tag}", f"the element <{child.tag}>", "not known to be a no-op")
    srs_node = root.find("SRS")
    srs = (srs_node.text or "").strip() or None if srs_node is not None else None
    mapping = None
    if srs_node is not None and srs_node.get("dataAxisToSRSAxisMapping"):
        try:
            mapping = tuple(int(v) for v in srs_node.get("dataAxisToSRSAxisMapping", "").split(","))
        except ValueError as exc:
            raise VrtFormatError(f"SRS/@dataAxisToSRSAxisMapping of {url} is not a list of integers") from exc
    geotransform = None
    gt_text = root.findtext("GeoTransform")
    if gt_text is not None and gt_text.strip():
        try:
            values = tuple(float(v) for v in gt_text.replace(",", " ").split())
        except ValueError as exc:
            raise VrtFormatError(f"GeoTransform of {url} is {gt_text.strip()!r}, expected six numbers") from exc
        if len(values) != 6 or not all(math.isfinite(v) for v in values):
            raise VrtFormatError(f"GeoTransform of {url} is {gt_text.strip()!r}, expected six finite numbers")
        geotransform = GeoTransform(*values)
    gcps = root.find("GCPList")
    gcp_count = len(gcps.findall("GCP")) if gcps is not None and geotransform is None else 0
    bands = tuple(_parse_band(url, node, i + 1) for i, node in enumerate(root.findall("VRTRasterBand")))
    if not bands:
        raise VrtFormatError(f"{url} has no VRTRasterBand")
    numbers = [b.number for b in bands]
    if numbers != list(range(1, len(bands) + 1)):
        raise VrtFormatError(f"{url} numbers its bands {numbers}, expected 1..{len(bands)} in order")
    return VrtDataset(url=url, width=width, height=height, srs=srs, axis_mapping=mapping,
                      geotransform=geotransform, gcp_count=gcp_count, bands=bands, metadata=_metadata(root))
