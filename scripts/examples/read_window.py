"""Open one COG virtually and read a window: only the tiles the window touches are fetched.

    python scripts/examples/read_window.py                 # writes a sample COG to ./examples-output
    python scripts/examples/read_window.py /data/scene.tif  # or any local TIFF / file:// URL
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import obstore
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry

from virtual_geotiff import VirtualTIFF

# zarr flags numcodecs.* codec names as outside the Zarr v3 spec; zarr-python, zarrs and zarrita.js read them.
warnings.filterwarnings("ignore", message="Numcodecs codecs are not in the Zarr version 3 specification")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="a TIFF to open (default: write a sample COG)")
    parser.add_argument("--out", type=Path, default=Path("examples-output"), help="where the sample COG goes")
    args = parser.parse_args(argv)
    if args.path is None:
        from _sample import write_sample_cog

        args.path = str(write_sample_cog(args.out / "sample.tif"))
    url = args.path if "://" in args.path else Path(args.path).resolve().as_uri()

    # The registry maps URL prefixes to obstore stores; for S3 register
    # {"s3://bucket": obstore.store.S3Store("bucket", region="...")} and pass s3:// URLs.
    registry = ObjectStoreRegistry({"file://": obstore.store.LocalStore()})
    store = VirtualTIFF(ifd=0)(url=url, registry=registry)  # reads headers only, no pixels
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False)
    print(ds)

    window = ds["0"].isel(y=slice(100, 400), x=slice(200, 456))  # crosses tile boundaries both ways
    values = window.values  # now the 4 tiles under the window are fetched and decoded
    print(f"window {values.shape} {values.dtype}: min={float(values.min()):g} max={float(values.max()):g} "
          f"sum={float(values.sum(dtype='float64'))!r}")
    print(f"CRS: {ds['spatial_ref'].attrs.get('crs_wkt', 'none')[:60]}...")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
