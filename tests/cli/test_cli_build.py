"""``virtual-geotiff build`` / ``verify`` and ``inspect`` on the corpus, run as subprocesses as users run them."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from tests.support.cli import run_cli
from tests.support.paths import CORPUS, REPO

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import from_origin  # noqa: E402

TILE = 128  # file size 256 x 256, two 128-px blocks per side
DATES = ["20240101", "20240201"]


def write_tiles(folder: Path) -> dict[tuple[str, int, int], Path]:
    """A 2 x 2 mosaic of 256-px COGs (EPSG:32633, 10 m) for each date: files differ per date and position."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for d, date in enumerate(DATES):
        for row in range(2):
            for col in range(2):
                data = (np.arange(256 * 256, dtype="uint16").reshape(256, 256) + 1000 * d + 100 * row + 10 * col)
                path = folder / f"tile_{date}_r{row}c{col}.tif"
                transform = from_origin(500_000.0 + col * 2560.0, 5_000_000.0 - row * 2560.0, 10.0, 10.0)
                with rasterio.open(path, "w", driver="COG", width=256, height=256, count=1, dtype="uint16",
                                   crs="EPSG:32633", transform=transform, compress="DEFLATE",
                                   blocksize=TILE) as dst:
                    dst.write(data, 1)
                paths[(date, row, col)] = path
    return paths


@pytest.fixture(scope="module")
def tiles(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("tiles")
    return folder, write_tiles(folder)


def open_repo(path: Path) -> xr.Dataset:
    import icechunk as ic

    from virtual_geotiff.icechunk import open_repository

    repo = open_repository(ic.local_filesystem_storage(str(path)))
    return xr.open_zarr(repo.readonly_session(branch="main").store, zarr_format=3, consolidated=False,
                        mask_and_scale=False)


def test_build_glob_to_icechunk_reads_back_like_rasterio(tiles, tmp_path):
    folder, paths = tiles
    repo = tmp_path / "repo"
    result = run_cli("build", str(folder / "tile_*.tif"), "--to", str(repo),
                     "--stack-pattern", r"_(\d{8})_", "--stack-format", "%Y%m%d")
    assert result.returncode == 0, result.stderr
    assert "8 used, 0 skipped, 8 given" in result.stdout and "snapshot" in result.stdout
    assert "reading headers: 8/8 files" in result.stderr and "files/s" in result.stderr  # plain-text progress
    assert "\r" not in result.stderr  # not a terminal: no in-place redraw
    ds = open_repo(repo)
    assert ds["data"].shape == (2, 512, 512) and ds["data"].dims == ("time", "y", "x")
    assert list(ds["time"].values) == [np.datetime64("2024-01-01"), np.datetime64("2024-02-01")]
    for (date, row, col), path in paths.items():
        with rasterio.open(path) as src:
            want = src.read(1)
        got = ds["data"].isel(time=DATES.index(date), y=slice(256 * row, 256 * row + 256),
                              x=slice(256 * col, 256 * col + 256)).values
        np.testing.assert_array_equal(got, want, err_msg=path.name)


def test_verify_reports_drift_with_exit_code_4(tiles, tmp_path):
    _, paths = tiles
    copy = tmp_path / "src"
    copy.mkdir()
    for path in paths.values():
        if "20240101" in path.name:
            (copy / path.name).write_bytes(path.read_bytes())
    listing = tmp_path / "list.txt"
    listing.write_text("# one URL per line\n" + "\n".join((copy / p).as_uri() for p in sorted(os.listdir(copy))))
    repo = tmp_path / "repo"
    built = run_cli("build", "--from-file", str(listing), "--to", str(repo), "--no-progress")
    assert built.returncode == 0, built.stderr
    assert built.stderr == ""

    clean = run_cli("verify", str(repo))
    assert clean.returncode == 0, clean.stderr
    assert "all 4 source file(s) match" in clean.stdout

    changed = copy / "tile_20240101_r1c0.tif"
    time.sleep(1.1)  # a later modification time, whatever the filesystem's resolution
    changed.write_bytes(changed.read_bytes() + b"\0")
    drift = run_cli("verify", str(repo), "--json")
    assert drift.returncode == 4, drift.stderr
    report = json.loads(drift.stdout)
    assert report["checked"] == 4 and not report["ok"]
    assert [d["url"] for d in report["drifted"]] == [changed.as_uri()]


def test_build_failed_file_writes_nothing_or_skips_with_exit_5(tiles, tmp_path):
    _, paths = tiles
    bad = tmp_path / "tile_20240301_r0c0.tif"
    bad.write_bytes(b"II*\0garbage, not a real TIFF header")
    inputs = [str(p) for p in paths.values() if "20240101" in p.name] + [str(bad)]

    refused = run_cli("build", *inputs, "--to", str(tmp_path / "refused"), "--no-progress")
    assert refused.returncode == 1
    assert bad.as_uri() in refused.stderr and "hint:" in refused.stderr and "Traceback" not in refused.stderr
    assert not (tmp_path / "refused").exists()

    skipped = run_cli("build", *inputs, "--to", str(tmp_path / "skipped"), "--no-progress", "--on-error", "skip")
    assert skipped.returncode == 5, skipped.stderr
    assert "4 used, 1 skipped, 5 given" in skipped.stdout and bad.as_uri() in skipped.stdout
    assert open_repo(tmp_path / "skipped")["data"].shape == (512, 512)


def test_build_kerchunk_json_bbox_reads_back(tiles, tmp_path):
    folder, paths = tiles
    out = tmp_path / "refs.json"
    # the top-left file only: x 500000..502560, y 4997440..5000000, shrunk inside its first block
    result = run_cli("build", str(folder / "tile_20240101_*.tif"), "--to", str(out), "--no-progress",
                     "--bbox", "500100,4999000,501000,4999900")
    assert result.returncode == 0, result.stderr
    ds = xr.open_dataset("reference://", engine="zarr", mask_and_scale=False,
                         backend_kwargs={"consolidated": False, "storage_options": {"fo": str(out)}})
    assert ds["data"].shape == (TILE, TILE)  # widened outward to one whole chunk
    with rasterio.open(paths[("20240101", 0, 0)]) as src:
        np.testing.assert_array_equal(ds["data"].values, src.read(1)[:TILE, :TILE])


def test_progress_bar_redraws_in_place_on_a_terminal():
    import io

    from virtual_geotiff._progress import ByteCounter, ProgressBar

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream, counter = Tty(), ByteCounter()
    bar = ProgressBar(4, counter, stream=stream, label="headers:")
    for done in range(1, 5):
        counter.add(2048)
        bar(done, 4, f"file://x/{done}.tif")
    text = stream.getvalue()
    assert text.startswith("\r\033[K[") and text.endswith("\n")
    assert "[########################] headers: 4/4 files, 8.0 KiB read" in text and "files/s, in 0:00" in text


def test_build_usage_errors(tmp_path):
    assert run_cli("build", "--to", str(tmp_path / "x")).returncode == 2  # no inputs
    missing = run_cli("build", str(tmp_path / "nothing_*.tif"), "--to", str(tmp_path / "x"))
    assert missing.returncode == 2 and "matches no file" in missing.stderr
    assert run_cli("build", "a.tif", "--to", str(tmp_path / "x"), "--bbox", "1,2,3").returncode == 2  # argparse


def test_verify_missing_repository_or_cube(tmp_path):
    import icechunk as ic

    result = run_cli("verify", str(tmp_path / "no-repo"))
    assert result.returncode == 3 and "no Icechunk repository" in result.stderr
    ic.Repository.create(ic.local_filesystem_storage(str(tmp_path / "empty")))
    empty = run_cli("verify", str(tmp_path / "empty"))
    assert empty.returncode == 3 and "holds no cube published by virtual-geotiff" in empty.stderr


def test_build_string_stack_labels(tiles, tmp_path):
    """Stack values without --stack-format stay strings; publishing them must work (it once crashed)."""
    folder, _ = tiles
    repo = tmp_path / "repo"
    result = run_cli("build", str(folder / "tile_*.tif"), "--to", str(repo), "--stack-pattern", r"_(\d{8})_",
                     "--stack-dim", "scene", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert "scene 20240101..20240201" in result.stdout  # the commit message names the range
    assert list(open_repo(repo)["scene"].values) == DATES


# ------------------------------------------------------------------------------------------- inspect on corpus

#: One file per class of the shared corpus: (path, expected exit code, text the output must contain).
CORPUS_CLASSES = [
    ("async-tiff/fixtures__image-tiff__geo-5b.tif", 0, '"georeferenced": true'),  # GeoTIFF, 5 bands
    ("async-tiff/fixtures__image-tiff__bigtiff__BigTIFFMotorola.tif", 0, '"byteorder": "MM"'),  # BigTIFF MM
    ("async-tiff/fixtures__image-tiff__tiled-jpeg-ycbcr.tif", 0, "virtual_geotiff.jpeg"),  # JPEG YCbCr
    ("async-tiff/fixtures__image-tiff__planar-rgb-u8.tif", 0, '"planar": 2'),  # separate planes, LZW
    ("async-tiff/fixtures__image-tiff__predictor-3-gray-f32.tif", 0, "floating_point_predictor"),
    ("image-tiff/tests__geotiff__usda_naip_256_webp_z3.tif", 0, "virtual_geotiff.webp"),  # WebP COG
    ("image-tiff/tests__images__fax4.tiff", 0, "virtual_geotiff.libtiff"),  # CCITT: decoded through libtiff
    ("pillow/Tests__images__old-style-jpeg-compression.tif", 0, "virtual_geotiff.libtiff"),  # old-style JPEG
    ("pillow/Tests__images__crash-0c7e0e8e11ce787078f00b5b0ca409a167f070e0.tif", 1, "error:"),  # fuzzed
    ("pillow/Tests__images__multipage_multiple_frame_loop.tiff", 0, "loops back"),  # looping IFD chain
]


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "code", "text"), CORPUS_CLASSES, ids=[c[0].split("__")[-1] for c in CORPUS_CLASSES])
def test_inspect_corpus_classes(name, code, text):
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus file absent: {path}")
    result = run_cli("inspect", str(path), "--json")
    assert result.returncode == code, result.stdout[-1000:] + result.stderr[-1000:]
    assert "Traceback" not in result.stderr
    assert text in result.stdout + result.stderr
    if code == 0:
        info = json.loads(result.stdout)
        assert info["ifds"] and any("error" not in d for d in info["ifds"])


def test_readme_cli_commands(tmp_path):
    """The three `virtual-geotiff` lines of the README's "Set up" run as written on quickstart-like files."""
    import re
    import shlex

    readme = (REPO / "README.md").read_text()
    lines = [line for line in readme.splitlines() if line.startswith("virtual-geotiff ")]
    assert [shlex.split(line)[1] for line in lines] == ["inspect", "build", "verify"]
    out = tmp_path / "quickstart-output"
    out.mkdir()
    # what scripts/quickstart.py writes: scene_<YYYYMM>_<west|east>.tif, two months x two neighbouring tiles
    for i, (month, col) in enumerate([(m, c) for m in ("202401", "202402") for c in (0, 1)]):
        with rasterio.open(out / f"scene_{month}_{('west', 'east')[col]}.tif", "w", driver="COG", width=256,
                           height=256, count=1, dtype="uint16", crs="EPSG:32633",
                           transform=from_origin(500_000.0 + col * 2560, 5_000_000.0, 10, 10),
                           compress="DEFLATE", predictor=2, blocksize=128) as dst:
            dst.write(np.full((256, 256), i + 1, "uint16"), 1)
    for line in lines:
        args = [re.sub(r"^quickstart-output", str(out), a) for a in shlex.split(line)[1:]]
        result = run_cli(*args)
        assert result.returncode == 0, (line, result.stdout[-1500:], result.stderr[-1500:])
    ds = open_repo(out / "cube-repo")
    assert ds["data"].shape == (2, 256, 512) and int(ds["data"][1, 0, 0]) == 3 and int(ds["data"][1, 0, 256]) == 4
    assert str(ds["time"].values[1])[:10] == "2024-02-01"
