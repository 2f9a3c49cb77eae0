"""A Sentinel-2-like archive in moto S3 -> STAC items -> band cube -> Icechunk repo in the same S3 -> a fresh
process that imports only xarray and icechunk reads every band equal to rasterio.

The archive (``testing.sentinel2``): 2 tiles in two UTM zones x 3 dates, B02/B03/B04/B08 at 10 m, B11/SCL at
20 m, per-band COGs with an overview, relative hrefs in a self-contained static catalog uploaded as is.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ic = pytest.importorskip("icechunk")
rasterio = pytest.importorskip("rasterio")
pytest.importorskip("pystac")

from virtual_geotiff import icechunk as vic  # noqa: E402
from virtual_geotiff.icechunk import publish_bands  # noqa: E402
from virtual_geotiff.stac import open_stac_cube  # noqa: E402
from virtual_geotiff.testing.sentinel2 import BANDS_10M, BANDS_20M, make_archive  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Numcodecs codecs are not in the Zarr version 3")

READER = textwrap.dedent("""
    import json, sys
    import icechunk, numpy as np, xarray as xr
    a = json.loads(sys.argv[1])
    storage = icechunk.s3_storage(bucket=a["bucket"], prefix="cube", endpoint_url=a["endpoint"], region="us-east-1",
                                  allow_http=True, access_key_id=a["key"], secret_access_key=a["secret"],
                                  force_path_style=True)
    creds = icechunk.containers_credentials({a["prefix"]: icechunk.s3_credentials(
        access_key_id=a["key"], secret_access_key=a["secret"])})
    repo = icechunk.Repository.open(storage, authorize_virtual_chunk_access=creds)
    store = repo.readonly_session(branch="main").store
    out, info = {}, {}
    for group in a["groups"]:
        ds = xr.open_zarr(store, group=group, zarr_format=3, consolidated=False, mask_and_scale=False)
        for name in ds.data_vars:
            out[f"{group}|{name}"] = ds[name].values
        info[group] = {"time": [str(t) for t in ds.time.values], "x0": float(ds.x[0]), "y0": float(ds.y[0]),
                       "cloud": ds["eo:cloud_cover"].values.tolist(), "vars": sorted(ds.data_vars),
                       "crs": ds.spatial_ref.attrs.get("crs_wkt", "")[:40]}
    np.savez(a["out"], **out)
    print(json.dumps(info))
    assert not any(m.startswith("virtual_geotiff") for m in sys.modules), "virtual_geotiff was imported"
    sys.stdout.flush()
    import os
    os._exit(0)
""")


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return make_archive(tmp_path_factory.mktemp("s2"))


def test_stac_archive_on_s3_published_to_s3_and_read_without_virtual_geotiff(archive, s3_server, tmp_path):
    bucket = s3_server.make_bucket()
    s3_server.upload_dir(bucket, archive.root, prefix="s2")
    registry = s3_server.registry(bucket)

    cube = open_stac_cube(f"s3://{bucket}/s2/catalog.json", registry)
    assert cube.failed == {}
    assert sorted(cube.groups) == ["EPSG_32631/10m", "EPSG_32631/20m", "EPSG_32632/10m", "EPSG_32632/20m"]
    assert len(cube.sources) == 36

    storage = ic.s3_storage(bucket=bucket, prefix="cube", endpoint_url=s3_server.endpoint, region="us-east-1",
                            allow_http=True, access_key_id="testing", secret_access_key="testing",
                            force_path_style=True)
    repo = vic.create_repository(storage, cube.sources, registry=registry)
    result = publish_bands(cube, repo, registry=registry)
    assert set(result.groups.values()) == {"published"} and result.files == 36

    (prefix,) = repo.config.virtual_chunk_containers
    assert prefix == f"s3://{bucket}/s2/sentinel-2-l2a-mini/"
    out = tmp_path / "read.npz"
    args = {"bucket": bucket, "endpoint": s3_server.endpoint, "key": "testing", "secret": "testing",
            "prefix": prefix, "groups": sorted(cube.groups), "out": str(out)}
    proc = subprocess.run([sys.executable, "-c", READER, json.dumps(args)], capture_output=True, text=True,
                          timeout=180, env={"PATH": "/usr/bin:/bin", "ICECHUNK_NO_LOGS": "1"})
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    values = dict(np.load(out))

    tiles = {"EPSG_32631": "31UGS", "EPSG_32632": "32ULB"}
    for group, meta in info.items():
        crs, res = group.split("/")
        assert meta["vars"] == sorted(BANDS_10M if res == "10m" else BANDS_20M)
        assert len(meta["time"]) == 3
        for band in meta["vars"]:
            got = values[f"{group}|{band}"]
            for t, day in enumerate(archive.dates):
                with rasterio.open(archive.files[(tiles[crs], day, band)]) as src:
                    np.testing.assert_array_equal(got[t], src.read(1), err_msg=f"{group} {band} {day}")
                    assert (meta["x0"], meta["y0"]) == (src.xy(0, 0)[0], src.xy(0, 0)[1])
        items = [i for i in archive.items if i.properties["s2:mgrs_tile"] == tiles[crs]]
        assert meta["cloud"] == [i.properties["eo:cloud_cover"] for i in sorted(items, key=lambda i: i.datetime)]
