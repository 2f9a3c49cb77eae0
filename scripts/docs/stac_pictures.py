"""mkdocs hook: the STAC guide's pictures, rendered from the generated Sentinel-2-like archive at build time.

Why at build time: the pictures show what the library does to the archive today (footprints of the
items, one published time step read back through Icechunk), so they are made by running it, not kept
as files that drift. ``on_files`` writes the archive to a temporary directory, builds and publishes the
cube, reads one time step back with xarray, and adds two SVG files to the site
(``guides/img/stac-footprints.svg``, ``guides/img/stac-quicklook.svg``) before links are validated.
Needs the ``docs`` extra (matplotlib, pystac, rasterio).
"""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

#: Scene classification colours (ESA's SCL legend) for the classes the generator writes.
SCL_COLOURS = {0: "#000000", 4: "#00a000", 5: "#ffe65a", 6: "#0000ff", 8: "#c8c8c8", 9: "#ffffff"}
SCL_NAMES = {0: "no data", 4: "vegetation", 5: "bare soil", 6: "water", 8: "cloud (medium)", 9: "cloud (high)"}


def _svg(fig: Any) -> bytes:
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    return out.getvalue().encode()


def footprints(archive: Any) -> bytes:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    colours = {32631: "#1565c0", 32632: "#c62828"}
    seen = set()
    for item in archive.items:
        epsg = int(item.assets["B02"].extra_fields["proj:code"].split(":")[1])
        ring = item.geometry["coordinates"][0]
        xs, ys = zip(*ring)
        label = f"EPSG:{epsg} (UTM zone {epsg - 32600} N)" if epsg not in seen else None
        seen.add(epsg)
        ax.fill(xs, ys, alpha=0.25, color=colours.get(epsg, "grey"), label=label)
        ax.plot(xs, ys, color=colours.get(epsg, "grey"), lw=1)
    for item in archive.items[:: len(archive.dates)]:
        lon, lat = (item.bbox[0] + item.bbox[2]) / 2, item.bbox[1]
        ax.annotate(f"tile {item.properties['s2:mgrs_tile']}\n{len(archive.dates)} dates x 6 bands",
                    (lon, lat), xytext=(0, -8), textcoords="offset points", fontsize=8, ha="center", va="top")
    lats = [v for item in archive.items for v in (item.bbox[1], item.bbox[3])]
    middle = (min(lats) + max(lats)) / 2
    ax.set_ylim(middle - 0.05, middle + 0.05)
    ax.axvline(6.0, color="black", ls="--", lw=1)
    ax.text(6.0, middle + 0.045, " 6\N{DEGREE SIGN} E: UTM zone boundary", fontsize=8, va="top")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title("Item footprints of the generated archive: one group per CRS", fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    ax.set_aspect(1 / 0.63)  # roughly equal distances at 51 N
    data = _svg(fig)
    plt.close(fig)
    return data


def quicklook(archive: Any, workdir: Path) -> bytes:
    """Publish the cube from the catalog, read the first time step of zone 31 back through Icechunk."""
    os.environ.setdefault("ICECHUNK_NO_LOGS", "1")
    import icechunk as ic
    import matplotlib.pyplot as plt
    import numpy as np
    import xarray as xr
    from matplotlib.colors import ListedColormap

    from virtual_geotiff import icechunk as vic
    from virtual_geotiff.icechunk import publish_bands
    from virtual_geotiff.stac import open_stac_cube

    cube = open_stac_cube(str(archive.catalog))
    storage = ic.local_filesystem_storage(str(workdir / "repo"))
    registry = None
    repo = vic.create_repository(storage, cube.sources)
    publish_bands(cube, repo, registry=registry)
    repo = vic.open_repository(storage)
    store = repo.readonly_session(branch="main").store
    ten = xr.open_zarr(store, group="EPSG_32631/10m", zarr_format=3, consolidated=False)
    twenty = xr.open_zarr(store, group="EPSG_32631/20m", zarr_format=3, consolidated=False, mask_and_scale=False)
    step = ten.isel(time=0)
    rgb = np.stack([step[b].values.astype("float64") for b in ("B04", "B03", "B02")], axis=-1)
    low, high = np.percentile(rgb, [2, 98])
    rgb = np.clip((rgb - low) / (high - low), 0, 1)
    scl = twenty.isel(time=0)["SCL"].values
    classes = sorted(SCL_COLOURS)
    cmap = ListedColormap([SCL_COLOURS[c] for c in classes])
    index = np.searchsorted(classes, scl)

    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    x, y = ten.x.values, ten.y.values
    axes[0].imshow(rgb, extent=(x[0] - 5, x[-1] + 5, y[-1] - 5, y[0] + 5))
    axes[0].set_title(f"B04/B03/B02 at 10 m, {np.datetime_as_string(step.time.values, unit='D')}", fontsize=9)
    x2, y2 = twenty.x.values, twenty.y.values
    axes[1].imshow(index, cmap=cmap, vmin=0, vmax=len(classes) - 1, interpolation="nearest",
                   extent=(x2[0] - 10, x2[-1] + 10, y2[-1] - 10, y2[0] + 10))
    axes[1].set_title("SCL at 20 m (0 = nodata)", fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=SCL_COLOURS[c], ec="grey") for c in classes]
    axes[1].legend(handles, [SCL_NAMES[c] for c in classes], fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    for ax in axes:
        ax.set_xlabel("x (m, EPSG:32631)")
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("y (m)")
    fig.suptitle("One published time step, read back through Icechunk (group EPSG_32631)", fontsize=10)
    data = _svg(fig)
    plt.close(fig)
    return data


def render(workdir: Path) -> dict[str, bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "virtual-geotiff"  # stable ids: the same archive gives the same file
    from virtual_geotiff.testing.sentinel2 import make_archive

    archive = make_archive(workdir / "archive")
    return {"stac-footprints.svg": footprints(archive), "stac-quicklook.svg": quicklook(archive, workdir)}


def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pictures = render(Path(tmp))
    for name, content in pictures.items():
        files.append(File.generated(config, f"guides/img/{name}", content=content))
    return files
