"""Write GDAL ``.vrt`` files over the original TIFFs of a virtual dataset, so GDAL/QGIS users open the same data.

Input: a virtual ``xarray.Dataset`` (``ManifestArray`` variables, as ``open_virtual_cube``,
``virtualizarr.open_virtual_dataset(..., parser=VirtualTIFF(...))`` or ``VirtualVRT`` give) with its
``spatial_ref`` (``crs_wkt`` + ``GeoTransform``). Output: one VRT per stack position (``time``, ...), whose
bands are the variable's ``band`` dimension (or one band).

Why the placement is derived from the manifest rather than from a record the builder keeps: the manifest
*is* what the virtual store reads, so a VRT derived from it cannot disagree with it, and any virtual
dataset works (stitched, cropped with ``bbox``, stacked, ``overview_level``). For every file a slice
references, its header is read (``tiff.headers.read_headers``) and the chunks' byte offsets are looked up in the
file's own tile table: that gives the IFD (``GTIFF_DIR:n:`` for another IFD than the first), the band
(``SourceBand``) and the tile position, hence ``SrcRect``/``DstRect``. Chunks that do not form one file's
tile grid at one offset, chunk shapes that differ from the file's tiles, or partial edge tiles inside the
mosaic raise ``UnsupportedVrtError``: the VRT would not show the same pixels.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from obspec_utils.registry import ObjectStoreRegistry

from .._sync import run_sync
from ..arrays.planned import plan_ifd
from ..errors import InvalidArgumentError, UnsupportedVrtError
from ..geo.attrs import parse_nodata
from ..limits import Limits
from ..manifest import references
from ..tiff.headers import DEFAULT_CONCURRENCY, raise_failed, read_headers, split_failed
from ..tiff.reader import TiffHeader
from .model import NUMPY_TO_GDAL, Window
from .paths import gdal_filename


@dataclass(frozen=True)
class SourcePlacement:
    """One file's contribution to one VRT band."""

    url: str
    ifd: int  # index in the file's main IFD chain
    band: int  # 1-based SourceBand
    src: Window
    dst: Window


def _manifest_array(ds: Any, variable: str | None) -> tuple[str, Any, Any]:
    from virtualizarr.manifests import ManifestArray

    names = [variable] if variable is not None else [
        n for n, v in ds.data_vars.items() if isinstance(v.data, ManifestArray) and v.ndim >= 2]
    if variable is None and len(names) != 1:
        raise InvalidArgumentError(f"the dataset has {len(names)} virtual variables {names}; pass variable=")
    name = names[0]
    if name not in ds.variables:
        raise InvalidArgumentError(f"variable {name!r} is not in the dataset ({list(ds.data_vars)})")
    var = ds[name]
    if not isinstance(var.data, ManifestArray):
        raise InvalidArgumentError(f"variable {name!r} is not virtual (no ManifestArray); a VRT can only point at "
                                   "the source files of a virtual dataset")
    return name, var, var.data


def _selection(var: Any, index: Mapping[str, int] | None) -> tuple[tuple[Any, ...], str | None]:
    """Index into the leading dimensions (all but y/x): ``index`` picks stack positions; at most one
    dimension (``band``) may stay and becomes the VRT's bands."""
    index = dict(index or {})
    lead = list(var.dims[:-2])
    unknown = set(index) - set(lead)
    if unknown:
        raise InvalidArgumentError(f"index names {sorted(unknown)}, not leading dimensions of {var.name!r} {lead}")
    key: list[Any] = []
    band_dim = None
    for dim in lead:
        if dim in index:
            i = index[dim]
            n = var.sizes[dim]
            if not isinstance(i, int | np.integer) or not -n <= i < n:
                raise InvalidArgumentError(f"index[{dim!r}]={i!r} is outside 0..{n - 1}")
            key.append(int(i) % n)
        elif band_dim is None and (dim == "band" or len(lead) - len(index) == 1):
            band_dim = dim
            key.append(slice(None))
        else:
            raise InvalidArgumentError(f"dimension {dim!r} of {var.name!r} needs a position: pass index={{{dim!r}: i}}")
    return tuple(key), band_dim


class _Layouts:
    """Chunk layouts of the IFDs of the referenced files, planned once per (file, IFD)."""

    def __init__(self, headers: dict[str, TiffHeader], limits: Limits) -> None:
        self.headers = headers
        self.limits = limits
        self._cache: dict[tuple[str, int], tuple[Any, Any]] = {}

    def get(self, url: str, ifd: Any) -> tuple[Any, Any]:
        """``(IfdInfo, ChunkLayout)`` with offsets/lengths as ``(plane, row, col)`` arrays."""
        key = (url, ifd.index)
        if key not in self._cache:
            layout = plan_ifd(ifd, self.headers[url], self.limits).layout
            self._cache[key] = (ifd, layout)
        return self._cache[key]


def _planes(a: np.ndarray) -> np.ndarray:
    return a if a.ndim == 3 else a[None]


def _locate(url: str, layouts: _Layouts, offset: int, length: int,
            chunks: tuple[int, int]) -> tuple[Any, Any, int, int, int]:
    """``(ifd, layout, plane, tile row, tile col)`` of the file's tile stored at ``offset``."""
    for ifd in layouts.headers[url].ifds:
        _, layout = layouts.get(url, ifd)
        found = np.argwhere((_planes(layout.offsets) == offset) & (_planes(layout.lengths) == length))
        if found.size:
            if tuple(layout.chunks[-2:]) != chunks:
                raise UnsupportedVrtError(f"chunks of {url} are {chunks} but IFD {ifd.index} has tiles of "
                                          f"{tuple(layout.chunks[-2:])}: GDAL would not read the same pixels")
            plane, row, col = (int(v) for v in found[0])
            return ifd, layout, plane, row, col
    raise UnsupportedVrtError(f"no IFD of {url} has a tile at byte offset {offset} (length {length}): the virtual "
                              "dataset does not reference this file's tiles as stored (was it rewritten?)")


def _placements(paths: np.ndarray, offsets: np.ndarray, lengths: np.ndarray, shape: tuple[int, int],
                chunks: tuple[int, int], layouts: _Layouts, in_chunk_band: int | None,
                fill: Any) -> list[SourcePlacement]:
    """Where each file referenced by one band's 2-D chunk grid sits, checked chunk by chunk.

    Chunks are grouped by file with one ``np.unique``, so the cost is linear in the number of chunks.
    """
    ch, cw = chunks
    height, width = shape
    grid_w = paths.shape[1]
    uniq, inverse = np.unique(paths.ravel(), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(len(uniq) + 1))
    out = []
    for k, url in enumerate(uniq.tolist()):
        if not url:
            continue
        flat = order[starts[k]:starts[k + 1]]  # row-major positions of this file's chunks
        rows, cols = np.divmod(flat, grid_w)
        ref = (int(rows[0]), int(cols[0]))
        ifd, layout, plane, trow, tcol = _locate(url, layouts, int(offsets[ref]), int(lengths[ref]), chunks)
        f_off, f_len = _planes(layout.offsets)[plane], _planes(layout.lengths)[plane]
        r0, c0 = ref[0] - trow, ref[1] - tcol  # the file's first tile in grid units (may be negative)
        fr, fc = np.nonzero(f_len > 0)  # the file's stored tiles, row-major
        gr, gc = fr + r0, fc + c0
        inside = (gr >= 0) & (gr < paths.shape[0]) & (gc >= 0) & (gc < grid_w)
        expected = np.sort(gr[inside] * grid_w + gc[inside])
        ok = (np.array_equal(expected, np.sort(flat))
              and np.array_equal(offsets[rows, cols], f_off[rows - r0, cols - c0])
              and np.array_equal(lengths[rows, cols], f_len[rows - r0, cols - c0]))
        if not ok:
            raise UnsupportedVrtError(f"the chunks referencing {url} do not form its tile grid (IFD {ifd.index}) "
                                      "at one offset: a VRT cannot place it")
        # pixels of the file inside the array
        y0, x0 = r0 * ch, c0 * cw
        y_start, x_start = max(y0, 0), max(x0, 0)
        y_end, x_end = min(y0 + ifd.height, height), min(x0 + ifd.width, width)
        vr, vc = max(-r0, 0), max(-c0, 0)
        visible = f_len[vr:(y_end - y0 + ch - 1) // ch, vc:(x_end - x0 + cw - 1) // cw]
        if not visible.all():
            mr, mc = np.nonzero(visible == 0)
            if (paths[mr + vr + r0, mc + vc + c0] != "").any():
                raise UnsupportedVrtError(f"{url} has missing (sparse) tiles where the virtual array reads another "
                                          "file: the VRT would draw this file's nodata over it")
            file_fill = parse_nodata(ifd.geo.gdal_nodata, np.dtype(fill.dtype))
            file_fill = np.zeros((), fill.dtype)[()] if file_fill is None else file_fill
            if not (file_fill == fill or (np.isnan(file_fill) and np.isnan(fill))):
                raise UnsupportedVrtError(f"{url} has missing (sparse) tiles that GDAL reads as {file_fill!r}, but "
                                          f"the virtual array reads them as its fill value {fill!r}")
        for end, full, limit, tile, axis in ((y0 + ifd.height, ifd.height, height, ch, "height"),
                                             (x0 + ifd.width, ifd.width, width, cw, "width")):
            if end < limit and full % tile:
                raise UnsupportedVrtError(f"{url} ({axis} {full}, tiles of {tile}) ends inside the mosaic with a "
                                          "partial tile: the virtual array shows the tile's padding there, GDAL would "
                                          "not")
        band = (in_chunk_band + 1) if in_chunk_band is not None else plane + 1
        out.append(SourcePlacement(
            url=url, ifd=ifd.index, band=band,
            src=Window(x_start - x0, y_start - y0, x_end - x_start, y_end - y_start),
            dst=Window(x_start, y_start, x_end - x_start, y_end - y_start)))
    return out


def _fill_and_nodata(var: Any, arr: Any) -> tuple[Any, bool]:
    fill = arr.metadata.fill_value
    attrs = {**arr.metadata.attributes, **var.attrs, **var.encoding}
    return np.asarray(fill, dtype=arr.dtype)[()], "_FillValue" in attrs or "missing_value" in attrs


def _number(value: Any) -> str:
    value = np.asarray(value)[()]
    if isinstance(value, np.floating | float):
        return "nan" if np.isnan(value) else repr(float(value))
    return str(int(value))


def _srs(ds: Any) -> tuple[str | None, str | None, str | None]:
    """``(wkt, dataAxisToSRSAxisMapping, GeoTransform)`` from the ``spatial_ref`` grid mapping."""
    if "spatial_ref" not in ds.variables:
        return None, None, None
    attrs = ds["spatial_ref"].attrs
    wkt = attrs.get("crs_wkt") or attrs.get("spatial_ref")
    mapping = None
    if wkt:
        import pyproj

        axes = pyproj.CRS.from_user_input(wkt).axis_info
        if len(axes) >= 2:
            mapping = "2,1" if axes[0].direction.lower() in ("north", "south") else "1,2"
            mapping += "".join(f",{i}" for i in range(3, len(axes) + 1))
    gt = attrs.get("GeoTransform")
    if gt is not None:
        gt = ", ".join(repr(float(v)) for v in str(gt).replace(",", " ").split())
    return wkt, mapping, gt


def vrt_xml(ds: Any, registry: ObjectStoreRegistry, *, variable: str | None = None,
            index: Mapping[str, int] | None = None, limits: Limits | None = None,
            concurrency: int = DEFAULT_CONCURRENCY) -> str:
    """The VRT XML of one 2-D slice (``index`` picks stack positions) of a virtual variable.

    The slice's remaining leading dimension (``band``) becomes the VRT's bands; sources are written as
    absolute GDAL names (local paths, ``/vsis3/``, ``/vsicurl/``), so the VRT can live anywhere.
    """
    limits = limits or Limits()
    name, var, arr = _manifest_array(ds, variable)
    key, band_dim = _selection(var, index)
    m = arr.manifest
    lead_chunks = arr.metadata.chunks[:-2]
    # chunk-grid key: stack positions must be whole chunks (chunk 1 along every indexed dimension)
    grid_key: list[Any] = []
    for dim, k, c in zip(var.dims[:-2], key, lead_chunks):
        if isinstance(k, int):
            if c != 1:
                raise UnsupportedVrtError(f"dimension {dim!r} of {name!r} has chunks of {c}: pick a dimension "
                                          "chunked by 1")
            grid_key.append(k)
        else:
            grid_key.append(slice(None))
    refs = references(m)[tuple(grid_key)]
    paths, offsets, lengths = refs.paths, refs.offsets, refs.lengths
    if paths.ndim == 2:
        paths, offsets, lengths = paths[None], offsets[None], lengths[None]
    band_chunk = arr.metadata.chunks[var.dims.index(band_dim)] if band_dim is not None else 1
    nbands = var.sizes[band_dim] if band_dim is not None else 1
    height, width = var.shape[-2:]
    chunks = (arr.metadata.chunks[-2], arr.metadata.chunks[-1])
    fill, has_nodata = _fill_and_nodata(var, arr)
    if not has_nodata and (paths == "").any() and fill != 0:
        raise UnsupportedVrtError(f"{name!r} has chunks without source that read as its fill value {fill!r}, but "
                                  "GDAL reads them as 0 (no nodata is declared)")
    urls = [u for u in dict.fromkeys(paths.ravel().tolist()) if u]
    if not urls:
        raise UnsupportedVrtError(f"the selected slice of {name!r} references no file")
    headers, failed = split_failed(run_sync(read_headers(urls, registry, limits, concurrency=concurrency)))
    raise_failed(failed)
    layouts = _Layouts(dict(zip(urls, headers)), limits)
    gdal_type = NUMPY_TO_GDAL.get(np.dtype(arr.dtype).newbyteorder("=").name)
    if gdal_type is None:
        raise UnsupportedVrtError(f"{name!r} has dtype {arr.dtype}, which has no GDAL data type")

    root = ET.Element("VRTDataset", rasterXSize=str(width), rasterYSize=str(height))
    wkt, mapping, gt = _srs(ds)
    if wkt:
        srs = ET.SubElement(root, "SRS", **({"dataAxisToSRSAxisMapping": mapping} if mapping else {}))
        srs.text = wkt
    if gt:
        ET.SubElement(root, "GeoTransform").text = gt
    attrs = {**arr.metadata.attributes, **var.attrs}
    if str(attrs.get("AREA_OR_POINT", "")).lower() == "point":
        meta = ET.SubElement(root, "Metadata")
        ET.SubElement(meta, "MDI", key="AREA_OR_POINT").text = "Point"
    for b in range(nbands):
        chunk_b, in_chunk = divmod(b, band_chunk)
        placements = _placements(paths[chunk_b], offsets[chunk_b], lengths[chunk_b], (height, width), chunks,
                                 layouts, in_chunk if band_chunk > 1 else None, fill)
        band = ET.SubElement(root, "VRTRasterBand", dataType=gdal_type, band=str(b + 1))
        if has_nodata:
            ET.SubElement(band, "NoDataValue").text = _number(fill)
        for attr, tag in (("long_name", "Description"), ("units", "UnitType")):
            value = attrs.get(attr)
            if isinstance(value, list):
                value = value[b] if b < len(value) else None
            if value:
                ET.SubElement(band, tag).text = str(value)
        for attr, tag in (("add_offset", "Offset"), ("scale_factor", "Scale")):
            if attr in attrs:
                ET.SubElement(band, tag).text = repr(float(attrs[attr]))
        for p in placements:
            source = ET.SubElement(band, "SimpleSource")
            filename = gdal_filename(p.url)
            if p.ifd != 0:
                filename = f"GTIFF_DIR:{p.ifd + 1}:{filename}"
            ET.SubElement(source, "SourceFilename", relativeToVRT="0").text = filename
            ET.SubElement(source, "SourceBand").text = str(p.band)
            for tag, w in (("SrcRect", p.src), ("DstRect", p.dst)):
                ET.SubElement(source, tag, xOff=str(w.x_off), yOff=str(w.y_off), xSize=str(w.x_size),
                              ySize=str(w.y_size))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def write_vrts(ds: Any, directory: str | Path, registry: ObjectStoreRegistry, *, variable: str | None = None,
               dim: str | None = None, prefix: str | None = None, limits: Limits | None = None,
               concurrency: int = DEFAULT_CONCURRENCY) -> dict[Any, Path]:
    """Write one ``.vrt`` per position of the stack dimension ``dim`` into ``directory``.

    ``dim`` defaults to the variable's first dimension when it has one besides ``band``/``y``/``x``; without
    one, a single VRT is written. Files are named ``{prefix}_{value}.vrt`` (``prefix`` defaults to the
    variable name; ``value`` is the coordinate value, dates as ``YYYY-MM-DD``). Returns ``{value: path}``.
    """
    name, var, _ = _manifest_array(ds, variable)
    lead = [d for d in var.dims[:-2] if d != "band"]
    if dim is None and len(lead) == 1:
        dim = lead[0]
    if dim is not None and dim not in var.dims[:-2]:
        raise InvalidArgumentError(f"dim={dim!r} is not a leading dimension of {name!r} ({var.dims})")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    prefix = prefix or name
    out: dict[Any, Path] = {}
    positions = range(var.sizes[dim]) if dim is not None else [None]
    for i in positions:
        if i is None:
            value, index = None, None
        else:
            value = ds[dim].values[i] if dim in ds.coords else i
            index = {dim: i}
        path = directory / (f"{prefix}.vrt" if i is None else f"{prefix}_{_label(value)}.vrt")
        path.write_text(vrt_xml(ds, registry, variable=name, index=index, limits=limits, concurrency=concurrency))
        out[value.item() if isinstance(value, np.generic) and not isinstance(value, np.datetime64) else value] = path
    return out


def _label(value: Any) -> str:
    if isinstance(value, np.datetime64):
        text = np.datetime_as_string(value, unit="s")
        return text[:10] if text.endswith("T00:00:00") else text.replace(":", "")
    text = str(value)
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text) or "value"


__all__ = ["SourcePlacement", "vrt_xml", "write_vrts"]
