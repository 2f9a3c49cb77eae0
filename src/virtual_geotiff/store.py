"""``GeoManifestStore``: the ``ManifestStore`` the parsers return, whose virtual datasets hold the
parser's computed coordinates in memory.

Why. VirtualiZarr's default (``loadable_variables=None``) loads dimension coordinates only, so the scalar
``spatial_ref`` grid mapping, a non-dimension coordinate, would stay a ``ManifestArray``. xarray's combine
defaults (``open_virtual_mfdataset``'s ``coords="different", compat="no_conflicts"``, and ``xr.concat`` /
``xr.combine_by_coords`` with theirs) compare the values of every non-index coordinate across datasets, which
means loading it: a ``ManifestArray`` cannot be loaded (``TypeError: Could not find a Chunk Manager which
recognises type ManifestArray``) nor masked (``np.where`` is refused). The parser computes such coordinates
itself (they reference no byte of any source file), so they are loaded here, as the cube builder does: a user
passing nothing gets an in-memory ``spatial_ref`` that combines, publishes as a native array (Icechunk,
kerchunk inline data) and keeps ``ds.rio.crs``/``ds.rio.transform()`` working.

Per-file grid attributes. Each array also carries its file's GeoZarr ``spatial:`` attributes (shape, transform,
bbox). In a virtual dataset they would go stale as soon as it is combined: ``open_virtual_mfdataset`` keeps
the first file's (``combine_attrs="override"``), ``xr.combine_by_coords`` refuses differing ones
(``combine_attrs="no_conflicts"``). So the virtual dataset leaves them out (``without_grid_attributes``); the
combined grid is described by ``x``/``y`` and ``spatial_ref`` (CRS and GeoTransform of the first, i.e.
top-left, file), which is what rioxarray and GDAL read. ``proj:`` attributes (the CRS) stay. The store itself,
opened with ``xr.open_zarr``/``zarr``, and the cube builder's datasets keep the ``spatial:`` attributes.

Which variables: the non-dimension coordinates a group declares in its CF ``coordinates`` attribute (the
attribute VirtualiZarr itself turns into xarray coordinates) whose manifest points into no source file
(chunkless, or served from the parser's ``memory://`` store). Data variables are never loaded, however
sparse. An explicit ``loadable_variables`` (including ``[]``) is followed exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import xarray as xr
from virtualizarr.manifests import ManifestArray, ManifestGroup, ManifestStore

from ._upstream import manifest_group
from .geo.attrs import SPATIAL_CONVENTION

#: Only URLs under this scheme are computed by a parser; anything else is a source file.
COMPUTED_SCHEME = "memory://"


def is_computed(array: ManifestArray) -> bool:
    """True when no chunk of ``array`` references a source file (chunkless, or in the parser's memory store)."""
    return all(path.startswith(COMPUTED_SCHEME) for path in array.manifest.iter_nonempty_paths())


def declared_coordinates(group: ManifestGroup) -> list[str]:
    """Names in the group's CF ``coordinates`` attribute (a space-separated string or a list)."""
    names = group.metadata.attributes.get("coordinates", [])
    return names.split() if isinstance(names, str) else [str(n) for n in names]


def loadable_by_default(group: ManifestGroup) -> list[str]:
    """VirtualiZarr's default (dimension coordinates) plus the computed coordinates the group declares."""
    dims = [name for name, arr in group.arrays.items() if tuple(arr.metadata.dimension_names or ()) == (name,)]
    computed = [name for name in declared_coordinates(group)
                if name in group.arrays and is_computed(group.arrays[name]) and name not in dims]
    return dims + computed


def _load_in_place(ds: Any, names: Iterable[str]) -> None:
    """Replace the lazily indexed variables ``names`` of ``ds`` by their values (tiny arrays, no store kept).

    They are coordinates, which have no missing values (CF): ``_FillValue: None`` stops xarray's encoder from
    adding ``_FillValue: NaN`` to float ones when they are written, an attribute VirtualiZarr's kerchunk
    writer copies into ``.zattrs`` as a bare JSON ``NaN`` that its own kerchunk parser hands to xarray as an
    undecodable Zarr v3 attribute.
    """
    for name in names:
        if name in ds.variables:
            var = ds.variables[name]
            var.load()
            var.encoding["_FillValue"] = None


def without_grid_attributes(attrs: dict[str, Any]) -> dict[str, Any]:
    """``attrs`` without the GeoZarr ``spatial:`` keys and convention entry (one file's grid)."""
    out = {k: v for k, v in attrs.items() if not k.startswith("spatial:")}
    if "zarr_conventions" in out:
        kept = [c for c in out["zarr_conventions"] if c.get("uuid") != SPATIAL_CONVENTION["uuid"]]
        if kept:
            out["zarr_conventions"] = kept
        else:
            del out["zarr_conventions"]
    return out


def _drop_grid_attributes(ds: xr.Dataset) -> None:
    for var in ds.variables.values():
        if any(k.startswith("spatial:") for k in var.attrs):
            var.attrs = without_grid_attributes(var.attrs)


class GeoManifestStore(ManifestStore):
    """A ``ManifestStore`` whose ``to_virtual_dataset``/``to_virtual_datatree`` also load the parser's computed
    coordinates (``spatial_ref``) when ``loadable_variables`` is left at ``None``, and whose virtual datasets
    leave out the per-file ``spatial:`` grid attributes (see the module docstring)."""

    def to_virtual_dataset(self, group: str = "", loadable_variables: Iterable[str] | None = None,
                           decode_times: bool | None = None) -> xr.Dataset:
        names = loadable_variables
        if names is None:
            node = manifest_group(self)[group] if group else manifest_group(self)
            names = loadable_by_default(node) if isinstance(node, ManifestGroup) else None
        vds = super().to_virtual_dataset(group=group, loadable_variables=names, decode_times=decode_times)
        if loadable_variables is None:
            _load_in_place(vds, names or ())
        _drop_grid_attributes(vds)
        return vds

    def to_virtual_datatree(self, group: str = "", *, loadable_variables: Iterable[str] | None = None,
                            decode_times: bool | None = None) -> xr.DataTree:
        if loadable_variables is not None:
            return super().to_virtual_datatree(group=group, loadable_variables=loadable_variables,
                                               decode_times=decode_times)
        node = manifest_group(self)[group] if group else manifest_group(self)
        if not isinstance(node, ManifestGroup):
            return super().to_virtual_datatree(group=group, decode_times=decode_times)
        # VirtualiZarr applies one name list to every node; a name absent from a node is skipped there
        names = sorted({name for sub in _walk(node) for name in loadable_by_default(sub)})
        vdt = super().to_virtual_datatree(group=group, loadable_variables=names, decode_times=decode_times)
        for sub in vdt.subtree:
            _load_in_place(sub, names)
        return vdt


def _walk(group: ManifestGroup) -> Iterable[ManifestGroup]:
    yield group
    for child in group.groups.values():
        yield from _walk(child)
