"""``virtual-geotiff build --stac`` / ``append`` to an Icechunk repository in moto S3, and inspect polish, run as
subprocesses the way users run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ic = pytest.importorskip("icechunk")
rasterio = pytest.importorskip("rasterio")
pystac = pytest.importorskip("pystac")

from tests.support.cli import run_cli  # noqa: E402
from virtual_geotiff.testing.sentinel2 import make_archive  # noqa: E402


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return make_archive(tmp_path_factory.mktemp("s2"))


def test_inspect_names_compression_and_predictor(archive):
    path = next(iter(archive.files.values()))
    result = run_cli("inspect", str(path))
    assert result.returncode == 0, result.stderr
    assert "compression DEFLATE, predictor none" in result.stdout
    info = json.loads(run_cli("inspect", str(path), "--json").stdout)
    assert info["ifds"][0]["compression"] == 8 and info["ifds"][0]["compression_name"] == "DEFLATE"
    assert info["ifds"][0]["predictor_name"] == "none"


def test_inspect_into_head_exits_quietly(archive):
    path = next(iter(archive.files.values()))
    proc = subprocess.run(f"for i in 1 2 3 4 5 6 7 8; do echo {path}; done | xargs -n1 {sys.executable} -m "
                          f"virtual_geotiff.cli inspect 2>&1 | head -1; {sys.executable} -m virtual_geotiff.cli "
                          f"inspect {path} {path} 2>&1 | head -c 10", shell=True, capture_output=True, text=True,
                          timeout=120)
    assert "Broken pipe" not in proc.stdout + proc.stderr
    # one process whose stdout closes early: exit 0, nothing on stderr
    script = (f"import subprocess, sys; p = subprocess.Popen([sys.executable, '-m', 'virtual_geotiff.cli', 'inspect', "
              f"{str(path)!r}], stdout=subprocess.PIPE, stderr=subprocess.PIPE); p.stdout.close(); "
              "err = p.stderr.read(); print(p.wait(), err.decode())")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120).stdout
    assert out.split()[0] == "0" and "Broken pipe" not in out, out


def test_plain_http_is_a_configuration_error_not_retried():
    result = run_cli("inspect", "http://127.0.0.1:9/x.tif")
    assert result.returncode == 3
    assert "1 attempt(s) (not retried" in result.stderr
    assert "allow_http" in result.stderr and "--allow-http" in result.stderr


def test_build_stac_to_s3_then_append(archive, s3_server, tmp_path):
    bucket = s3_server.make_bucket()
    # the first two dates now, the last one later
    first = tmp_path / "first"
    catalog = pystac.Catalog.from_file(str(archive.catalog))
    items = sorted(catalog.get_items(recursive=True), key=lambda i: i.id)
    last_day = archive.dates[-1]

    def write_items(path: Path, keep) -> None:
        feats = [i.to_dict(transform_hrefs=False) for i in items if keep(i)]
        for f, i in zip(feats, [i for i in items if keep(i)]):
            f["links"] = []
            for key, asset in f["assets"].items():
                asset["href"] = f"s3://{bucket}/s2/sentinel-2-l2a-mini/{i.id}/{key}.tif"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))

    s3_server.upload_dir(bucket, archive.root, prefix="s2")
    write_items(first, lambda i: not i.id.endswith(last_day))
    s3_server.upload(bucket, "s2/first.json", first)
    later = tmp_path / "later"
    write_items(later, lambda i: i.id.endswith(last_day))
    s3_server.upload(bucket, "s2/later.json", later)

    env = {"AWS_ENDPOINT_URL": s3_server.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_REGION": "us-east-1"}
    target = f"s3://{bucket}/cubes/s2"
    refused = run_cli("build", "--stac", f"s3://{bucket}/s2/first.json", "--to", target, env=env)
    assert refused.returncode == 2 and "--allow-http" in refused.stderr

    built = run_cli("build", "--stac", f"s3://{bucket}/s2/first.json", "--assets", "B02,B04,SCL", "--to", target,
                    "--allow-http", "--no-progress", env=env)
    assert built.returncode == 0, built.stderr
    assert "group EPSG_32632/20m  SCL (time 2, y 64, x 64)" in built.stdout
    again = run_cli("build", "--stac", f"s3://{bucket}/s2/first.json", "--to", target, "--allow-http", env=env)
    assert again.returncode == 2 and "exists" in again.stderr

    appended = run_cli("append", "--stac", f"s3://{bucket}/s2/later.json", "--assets", "B02,B04,SCL", "--to",
                       target, "--allow-http", "--no-progress", env=env)
    assert appended.returncode == 0, appended.stderr
    assert "appended EPSG_32631/10m" in appended.stdout

    import xarray as xr

    storage = ic.s3_storage(bucket=bucket, prefix="cubes/s2", endpoint_url=s3_server.endpoint, region="us-east-1",
                            allow_http=True, access_key_id="testing", secret_access_key="testing",
                            force_path_style=True)
    config = ic.Repository.fetch_config(storage)
    creds = ic.containers_credentials({p: ic.s3_credentials(access_key_id="testing", secret_access_key="testing")
                                       for p in config.virtual_chunk_containers})
    repo = ic.Repository.open(storage, authorize_virtual_chunk_access=creds)
    assert len(list(repo.ancestry(branch="main"))) == 3  # init, build, append
    store = repo.readonly_session(branch="main").store
    ds = xr.open_zarr(store, group="EPSG_32631/10m", zarr_format=3, consolidated=False, mask_and_scale=False)
    assert sorted(ds.data_vars) == ["B02", "B04"] and ds.sizes["time"] == 3
    for t, day in enumerate(archive.dates):
        with rasterio.open(archive.files[("31UGS", day, "B04")]) as src:
            np.testing.assert_array_equal(ds.B04.values[t], src.read(1))


def test_verify_checks_every_group_of_a_stac_cube(archive, tmp_path):
    import shutil

    root = tmp_path / "archive"
    shutil.copytree(archive.root, root)
    repo = tmp_path / "repo"
    built = run_cli("build", "--stac", str(root / "catalog.json"), "--assets", "B02,SCL", "--to", str(repo),
                    "--no-progress")
    assert built.returncode == 0, built.stderr
    ok = run_cli("verify", str(repo), "--json")
    assert ok.returncode == 0, ok.stderr
    answer = json.loads(ok.stdout)
    assert answer["checked"] == 12 and len(answer["groups"]) == 4
    changed = root / "sentinel-2-l2a-mini" / "S2B_32ULB_20240606" / "SCL.tif"
    os.utime(changed, (changed.stat().st_atime, changed.stat().st_mtime + 10))
    drift = run_cli("verify", str(repo))
    assert drift.returncode == 4 and "1 of 12 source file(s) drifted" in drift.stdout and str(changed) in drift.stdout
    empty = tmp_path / "empty"
    ic.Repository.create(ic.local_filesystem_storage(str(empty)))
    none = run_cli("verify", str(empty))
    assert none.returncode == 3 and "holds no cube published by virtual-geotiff" in none.stderr
