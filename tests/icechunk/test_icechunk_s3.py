"""S3 sources (moto on 127.0.0.1) -> Icechunk -> xarray in a fresh process that never imports virtual_geotiff.

COGs with portable codecs (DEFLATE -> ``numcodecs.zlib``, ZSTD -> ``zstd``) are uploaded to moto, built
into two time-stacked virtual cubes with ``s3://`` URLs and published (groups ``deflate`` and ``zstd``) to
an on-disk repository whose one virtual chunk container is configured from the build's obstore ``S3Store``
(endpoint, path style, plain HTTP).
A subprocess opens the repository with plain icechunk + xarray and saves what it reads; the values must
equal rasterio's decode of the files. Then one object is overwritten: the read fails naming it, and
``verify`` lists exactly it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import obstore
import pytest
import xarray as xr

from virtual_geotiff import VirtualTIFF
from virtual_geotiff.sources import SourceStamp

ic = pytest.importorskip("icechunk")
virtualizarr = pytest.importorskip("virtualizarr")
rasterio = pytest.importorskip("rasterio")

from virtual_geotiff import icechunk as vic  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Numcodecs codecs are not in the Zarr version 3")

DAYS = np.array(["2022-03-01", "2022-03-11", "2022-03-21", "2022-03-31"], dtype="datetime64[ns]")

READER = textwrap.dedent("""
    import json, sys
    import icechunk, numpy as np, xarray as xr
    args = json.loads(sys.argv[1])
    creds = icechunk.containers_credentials({args["prefix"]: icechunk.s3_credentials(
        access_key_id=args["key"], secret_access_key=args["secret"])})
    repo = icechunk.Repository.open(icechunk.local_filesystem_storage(args["repo"]),
                                    authorize_virtual_chunk_access=creds)
    store = repo.readonly_session(branch="main").store
    groups = {g: xr.open_zarr(store, group=g, zarr_format=3, consolidated=False, mask_and_scale=False)
              for g in ("deflate", "zstd")}
    try:
        np.savez(args["out"], **{g: ds["0"].values for g, ds in groups.items()})
        print(json.dumps({"ok": True, "time": [str(t) for t in groups["zstd"].time.values],
                          "x0": [float(ds.x[0]) for ds in groups.values()],
                          "crs": ["crs_wkt" in ds.spatial_ref.attrs for ds in groups.values()]}))
    except Exception as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}))
    assert not any(m.startswith("virtual_geotiff") for m in sys.modules), "virtual_geotiff was imported"
    # icechunk/obstore runtime threads can abort a normal interpreter exit (SIGABRT, "PyGILState_Release");
    # the answer is complete here, so leave without the teardown that races them.
    sys.stdout.flush()
    import os
    os._exit(0)
""")


def write_cog(path: Path, seed: int, compress: str) -> np.ndarray:
    from rasterio.transform import from_origin

    data = np.random.default_rng(seed).integers(0, 4000, (96, 96), dtype=np.int16)
    with rasterio.open(path, "w", driver="COG", width=96, height=96, count=1, dtype="int16", crs="EPSG:3035",
                       transform=from_origin(4_000_000, 3_000_000, 20, 20), compress=compress,
                       blocksize=32, overview_resampling="nearest") as dst:
        dst.write(data, 1)
    with rasterio.open(path) as src:  # what rasterio decodes is the reference, not what we wrote
        return src.read(1)


def read_in_fresh_process(repo_dir: Path, prefix: str, s3_server, tmp_path: Path) -> tuple[dict, dict | None]:
    out = tmp_path / "read.npz"
    args = {"repo": str(repo_dir), "prefix": prefix, "key": s3_server.access_key_id,
            "secret": s3_server.secret_access_key, "out": str(out)}
    proc = subprocess.run([sys.executable, "-c", READER, json.dumps(args)], capture_output=True, text=True,
                          timeout=120, env={"PATH": "/usr/bin:/bin", "ICECHUNK_NO_LOGS": "1"})
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    return answer, (dict(np.load(out)) if answer["ok"] else None)


def build(s3_server, bucket, local: Path, compress: str, registry) -> tuple[xr.Dataset, dict, list]:
    folder = local / compress.lower()
    folder.mkdir(parents=True)
    expected = [write_cog(folder / f"scene_{i}.tif", i, compress) for i in range(len(DAYS))]
    urls = s3_server.upload_dir(bucket, folder, prefix=f"archive/{compress.lower()}")
    store = registry.resolve(urls[0])[0]
    parts = [virtualizarr.open_virtual_dataset(u, registry=registry, parser=VirtualTIFF(ifd=0)).expand_dims(time=[t])
             for u, t in zip(urls, DAYS, strict=True)]
    cube = xr.concat(parts, dim="time")
    codecs = [c.to_dict()["name"] for c in cube["0"].data.metadata.codecs]
    assert set(codecs) <= {"bytes", "numcodecs.zlib", "zstd"}, codecs
    sources = {}
    for url in urls:
        meta = obstore.head(store, url.split(f"s3://{bucket}/", 1)[1])
        sources[url] = SourceStamp(url, meta["e_tag"], meta["last_modified"], meta["size"])
    return cube, sources, expected


def test_s3_cube_reads_in_a_process_without_virtual_geotiff(tmp_path, s3_server):
    bucket = s3_server.make_bucket()
    registry = s3_server.registry(bucket)
    deflate, deflate_sources, deflate_expected = build(s3_server, bucket, tmp_path / "cogs", "DEFLATE", registry)
    zstd, zstd_sources, zstd_expected = build(s3_server, bucket, tmp_path / "cogs", "ZSTD", registry)

    repo_dir = tmp_path / "repo"
    repo = vic.create_repository(ic.local_filesystem_storage(str(repo_dir)), {**deflate_sources, **zstd_sources},
                                 registry=registry)
    prefix = f"s3://{bucket}/archive/"
    assert list(repo.config.virtual_chunk_containers) == [prefix]
    assert vic.publish(deflate, repo, sources=deflate_sources, group="deflate").references == {"deflate/0": 36}
    assert vic.publish(zstd, repo, sources=zstd_sources, group="zstd").references == {"zstd/0": 36}

    answer, values = read_in_fresh_process(repo_dir, prefix, s3_server, tmp_path)
    assert answer["ok"], answer
    assert answer["crs"] == [True, True] and answer["x0"] == [4_000_010.0, 4_000_010.0]
    assert [np.datetime64(t) for t in answer["time"]] == list(DAYS)
    np.testing.assert_array_equal(values["deflate"], np.stack(deflate_expected))
    np.testing.assert_array_equal(values["zstd"], np.stack(zstd_expected))

    # Drift: overwrite one object; the fresh reader fails naming it; verify lists exactly it.
    assert vic.verify(repo, registry=registry, group="zstd").ok
    write_cog(tmp_path / "other.tif", 123, "ZSTD")
    changed = s3_server.upload(bucket, "archive/zstd/scene_2.tif", tmp_path / "other.tif")
    answer, _ = read_in_fresh_process(repo_dir, prefix, s3_server, tmp_path)
    assert not answer["ok"]
    assert "checksum of the object owning the virtual chunk has changed" in answer["error"]
    assert changed in answer["error"]
    assert vic.verify(repo, registry=registry, group="zstd").urls == [changed]
    assert vic.verify(repo, registry=registry, group="deflate").ok
