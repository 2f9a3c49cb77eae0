"""A quick-look PNG of a COG overview level: reads only the small overview IFD, never the full image.

    python scripts/examples/quicklook_png.py                               # sample COG in ./examples-output
    python scripts/examples/quicklook_png.py scene.tif --overview-level 1  # 0 = first overview, as rasterio

Needs matplotlib: ``pip install -e ".[plot]"``.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import obstore
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry

from virtual_geotiff import VirtualTIFF

warnings.filterwarnings("ignore", message="Numcodecs codecs are not in the Zarr version 3 specification")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="a COG with internal overviews (default: a sample COG)")
    parser.add_argument("--overview-level", type=int, default=1,
                        help="overview to draw, numbered as rasterio's overview_level (0 = first overview)")
    parser.add_argument("--out", type=Path, default=Path("examples-output"), help="output directory")
    args = parser.parse_args(argv)
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        print('matplotlib is not installed: pip install -e ".[plot]"')
        return 2
    if args.path is None:
        from _sample import write_sample_cog

        args.path = str(write_sample_cog(args.out / "sample.tif"))
    url = args.path if "://" in args.path else Path(args.path).resolve().as_uri()

    registry = ObjectStoreRegistry({"file://": obstore.store.LocalStore()})
    # overview_level=k exposes that overview alone, as array "0" with its own x/y/spatial_ref
    store = VirtualTIFF(overview_level=args.overview_level)(url=url, registry=registry)
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False)
    level = ds["0"]
    image = level.values if level.ndim == 2 else level.isel(band=0).values

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(image, cmap="viridis")
    ax.set_title(f"{Path(url).name}, overview {args.overview_level}: {image.shape[1]} x {image.shape[0]} px")
    ax.set_axis_off()
    png = args.out / f"quicklook_overview{args.overview_level}.png"
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=80, bbox_inches="tight")
    print(f"wrote {png} from overview {args.overview_level} ({image.shape[1]} x {image.shape[0]} px, "
          f"sum={float(image.sum(dtype='float64'))!r})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
