"""Cubes published to Icechunk, read outside Python: Node + @earthmover/icechunk (WASM) + zarrita + our JS codecs.

Sources and the repository are served over HTTP by the test range server; the Icechunk repository is opened with
the binding's fetch storage and its virtual chunks are fetched over HTTP with the binding's own fetcher (wrapped
by ``allowHttpFetcher`` to accept the ``allow_http`` option our plain-http containers carry). Every array read in
Node is compared with rasterio's read of the source files, exactly.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.js_node import NodeReadError, ramp, read_with_node, require_node, write_geotiff

ic = pytest.importorskip("icechunk")
rasterio = pytest.importorskip("rasterio")


from virtual_geotiff import icechunk as vic  # noqa: E402
from virtual_geotiff.cube import open_virtual_cube  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"), pytest.mark.slow]
DATES = ("20240101", "20240102")




def image(bands: int, size: int, step: int) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size]
    planes = [(x * 3 + y + step * 40) % 256, (y * 2 + 90) % 256, ((x - y) * 5 + 128 + step) % 256]
    return np.stack(planes[:bands]).astype("u1")


def rasterio_read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        data = src.read()
    return data if data.shape[0] > 1 else data[0]


def publish(tmp_path: Path, server, paths: list[Path], stack: bool = True) -> tuple[dict, str]:
    """Publish the cube of ``paths`` (stacked by date unless ``stack`` is false) to tmp_path/repo; returns the
    Node request and the data variable's name."""
    reg = server.registry()
    urls = [server.url_for(p) for p in paths]
    stacking = {"stack_values": r"_(\d{8})", "stack_format": "%Y%m%d"} if stack else {}
    built = open_virtual_cube(urls, reg, **stacking)
    repo = vic.create_repository(ic.local_filesystem_storage(str(tmp_path / "repo")), urls, registry=reg)
    vic.publish(built, repo, registry=reg)
    containers = list(repo.config.virtual_chunk_containers)
    assert all(c.startswith("http://127.0.0.1:") for c in containers)
    request = {"icechunk": {"repo": server.url_for(tmp_path / "repo"), "branch": "main", "containers": containers}}
    return request, next(iter(built.dataset.data_vars))


CASES = {
    # name: writer of one date's files (in a directory); the expected values come from rasterio's reads
    "deflate_predictor2_cog_grid": lambda d, s: [
        write_geotiff(d / f"grid_{s}_r{r}_c{c}.tif", ramp((1, 64, 64), "u2", 10 * r + c + 100 * int(s[-1])),
                      col=c, row=r, tiled=True, blockxsize=32, blockysize=32, compress="deflate", predictor=2)
        for r in range(2) for c in range(2)],
    "lzw_float32_predictor3": lambda d, s: [
        write_geotiff(d / f"f32_{s}.tif", ramp((1, 48, 40), "f4", int(s[-1])), tiled=True, blockxsize=16, blockysize=16,
                      compress="lzw", predictor=3)],
    "strips_short_last_strip": lambda d, s: [
        write_geotiff(d / f"strips_{s}.tif", ramp((1, 45, 30), "i2", int(s[-1])), compress="deflate", blockysize=8)],
    "one_bit": lambda d, s: [
        write_geotiff(d / f"bits_{s}.tif", (ramp((1, 37, 50), "u1", int(s[-1])) > 128).astype("u1"), nbits=1,
                      compress="deflate", blockysize=16)],
    "ycbcr_jpeg": lambda d, s: [
        write_geotiff(d / f"jpeg_{s}.tif", image(3, 64, int(s[-1])), tiled=True, blockxsize=32, blockysize=32,
                      compress="jpeg", photometric="ycbcr", jpeg_quality=85, interleave="pixel")],
    "webp_lossy_rgb": lambda d, s: [
        write_geotiff(d / f"webp_{s}.tif", image(3, 64, int(s[-1])), tiled=True, blockxsize=32, blockysize=32,
                      compress="webp", webp_level=75, interleave="pixel")],
    "packbits_uint8": lambda d, s: [
        write_geotiff(d / f"packbits_{s}.tif", (ramp((1, 40, 33), "u1", int(s[-1])) // 64 * 64).astype("u1"),
                      compress="packbits", blockysize=8)],
}


UNSTACKED = {"ycbcr_jpeg", "webp_lossy_rgb"}


@pytest.fixture(scope="module")
def node():
    require_node()


def mosaic(paths: list[Path], date: str) -> np.ndarray:
    """rasterio reads of the files of ``date`` placed on their grid (files are equally sized)."""
    files = sorted(p for p in paths if date in p.name)
    reads = {p: rasterio_read(p) for p in files}
    if len(files) == 1:
        return reads[files[0]]
    h, w = next(iter(reads.values())).shape[-2:]
    out = np.zeros((2 * h, 2 * w), next(iter(reads.values())).dtype)
    for p, data in reads.items():
        r, c = int(p.stem.split("_r")[1][0]), int(p.stem.split("_c")[1][0])
        out[r * h:(r + 1) * h, c * w:(c + 1) * w] = data
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_node_reads_published_cube_exactly(case, tmp_path, http_server, node):
    www = tmp_path / "www"
    www.mkdir()
    # Pixel-interleaved multi-band files cannot be stacked yet (the cube keeps the files' 3-D transpose order
    # on a 4-D array): those files are published on their own.
    dates = DATES[:1] if case in UNSTACKED else DATES
    for date in dates:
        CASES[case](www, date)
    paths = sorted(www.glob("*.tif"))
    request, name = publish(tmp_path, http_server, paths, stack=case not in UNSTACKED)
    http_server.clear()
    got = read_with_node(request, {f"/{name}": None}, tmp_path)[f"/{name}"]
    expected = mosaic(paths, DATES[0]) if case in UNSTACKED else np.stack([mosaic(paths, d) for d in dates])
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected, strict=True)
    tif_gets = [r for r in http_server.records if r.method == "GET" and r.path.endswith(".tif")]
    assert tif_gets and all(r.status == 206 for r in tif_gets)  # virtual chunks came from the sources


def test_node_read_of_a_drifted_source_fails(tmp_path, http_server, node):
    """The wrapped fetcher keeps Icechunk's checksum check: a source rewritten after publishing fails the read."""
    www = tmp_path / "www"
    www.mkdir()
    for date in DATES:
        CASES["lzw_float32_predictor3"](www, date)
    paths = sorted(www.glob("*.tif"))
    request, name = publish(tmp_path, http_server, paths)
    time.sleep(1.1)  # the stored checksum is the last-modified second
    write_geotiff(paths[1], ramp((1, 48, 40), "f4", 99), tiled=True, blockxsize=16, blockysize=16, compress="lzw",
                  predictor=3)
    with pytest.raises(NodeReadError, match=r"(?i)checksum|modified|changed"):
        read_with_node(request, {f"/{name}": [1, None, None]}, tmp_path)
