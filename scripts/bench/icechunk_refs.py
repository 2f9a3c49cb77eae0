"""References/s into Icechunk: ``virtual_geotiff.icechunk.publish`` vs VirtualiZarr's ``vds.vz.to_icechunk``.

    python scripts/bench/icechunk_refs.py                       # 200 files x 32x32 chunks, 3 rounds
    python scripts/bench/icechunk_refs.py --files 1000 --grid 32 --rounds 1

Both writers get the same virtual cube: one real GeoTIFF's virtual dataset (codecs, attributes, x/y,
spatial_ref) scaled up to ``files`` time steps of ``grid x grid`` chunks each, every step pointing at its own
file URL, with one ``SourceStamp`` (ETag) per file. Each measurement runs in a fresh interpreter because
Icechunk reads ``ICECHUNK_NO_LOGS`` once, at import: by default its tracing subscriber formats every span
argument (including the array's zarr.json) once per reference, which is most of the cost of both writers.
Rounds interleave the writers so machine load hits all of them alike; the table shows the median.
Timed: the write into the session (wall ``write`` and process CPU ``cpu``, all threads: steadier than wall
time on a loaded machine) and the commit; refs/s counts the write only and, in the last column, write +
commit. A second table splits each writer's time per reference: inside Icechunk's ``set_virtual_refs`` and
``set_virtual_refs_arr`` (wall time of the calls, timed by wrapping both), inside ``commit``, and the rest of
the write (Python: preparing the arrays, metadata, coordinates, the ``_sources`` table). ``icechunk_alone``
is one ``set_virtual_refs_arr`` per array with everything prepared beforehand and no per-file checksums: a
floor no caller of Icechunk 2's API goes under; the last line turns it into the highest ratio reachable.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WORKER = r'''
import json, sys, time, warnings, tempfile
warnings.filterwarnings("ignore")
args = json.loads(sys.argv[1])
import numpy as np, xarray as xr, icechunk as ic, obstore, rasterio
from rasterio.transform import from_origin
from obspec_utils.registry import ObjectStoreRegistry
import virtualizarr
from virtualizarr.manifests import ChunkManifest, ManifestArray
from virtual_geotiff import VirtualTIFF
from virtual_geotiff.sources import SourceStamp
from virtual_geotiff import icechunk as vic

tmp = args["tmp"]
path = f"{tmp}/one.tif"
with rasterio.open(path, "w", driver="COG", width=512, height=512, count=1, dtype="uint16", crs="EPSG:32633",
                   transform=from_origin(500000, 4000000, 10, 10), compress="DEFLATE", blocksize=256) as dst:
    dst.write(np.ones((512, 512), np.uint16), 1)
reg = ObjectStoreRegistry({"file://": obstore.store.LocalStore()})
one = virtualizarr.open_virtual_dataset("file://" + path, registry=reg, parser=VirtualTIFF(ifd=0))
files, grid, tile = args["files"], args["grid"], 256
meta = one["0"].data.metadata.to_dict()
meta.update(shape=[files, grid * tile, grid * tile], dimension_names=["time", "y", "x"])
meta["chunk_grid"]["configuration"]["chunk_shape"] = [1, tile, tile]
from zarr.core.metadata.v3 import ArrayV3Metadata
urls = [f"file://{tmp}/archive/scene_{i:06d}.tif" for i in range(files)]
paths = np.repeat(np.array(urls, dtype=np.dtypes.StringDType()), grid * grid).reshape(files, grid, grid)
offsets = (np.arange(paths.size, dtype=np.uint64) * 4096 + 1024).reshape(paths.shape)
lengths = np.full(paths.shape, 4000, dtype=np.uint64)
manifest = ChunkManifest.from_arrays(paths=paths, offsets=offsets, lengths=lengths, validate_paths=False)
data = ManifestArray(metadata=ArrayV3Metadata.from_dict(meta), chunkmanifest=manifest)
x = np.arange(grid * tile) * 10.0 + 500005.0
y = 4000000.0 - 5.0 - np.arange(grid * tile) * 10.0
cube = xr.Dataset({"0": (("time", "y", "x"), data, one["0"].attrs)},
                  coords={"time": np.arange(files).astype("datetime64[D]").astype("datetime64[ns]"),
                          "y": ("y", y, one["y"].attrs), "x": ("x", x, one["x"].attrs),
                          "spatial_ref": one["spatial_ref"].variable}, attrs=one.attrs)
moment = __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").timezone.utc)
sources = {u: SourceStamp(u, f'"{i:08x}-{i:012x}"', moment, 10**6) for i, u in enumerate(urls)}
repo = vic.create_repository(ic.local_filesystem_storage(f"{tmp}/repo"), sources)
refs = paths.size
import icechunk.store
inside = [0.0]


def timed(method):
    original = getattr(icechunk.store.IcechunkStore, method)

    def wrapper(self, *a, **k):
        t0 = time.perf_counter()
        try:
            return original(self, *a, **k)
        finally:
            inside[0] += time.perf_counter() - t0

    setattr(icechunk.store.IcechunkStore, method, wrapper)


timed("set_virtual_refs")
timed("set_virtual_refs_arr")
cpu0 = time.process_time()
if args["writer"] == "icechunk_alone":
    sys.path.insert(0, args["here"])
    import cases
    write, commit = cases.icechunk_alone(cube, sources, f"{tmp}/alone", reg)
    inside[0] = write
    cpu = time.process_time() - cpu0
elif args["writer"] == "to_icechunk":
    session = repo.writable_session("main")
    t0 = time.perf_counter()
    cube.vz.to_icechunk(session.store, last_updated_at=moment)
    write = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    t0 = time.perf_counter()
    session.commit("to_icechunk")
    commit = time.perf_counter() - t0
else:
    session = repo.writable_session("main")
    result = vic.publish(cube, session, sources=sources)
    write = result.seconds
    cpu = time.process_time() - cpu0
    t0 = time.perf_counter()
    session.commit(result.message)
    commit = time.perf_counter() - t0
    assert result.total_references == refs
# the committed repository holds every reference
ro = repo.readonly_session(branch="main")
assert ro.store is not None
print(json.dumps({"refs": refs, "write": write, "cpu": cpu, "commit": commit, "set": inside[0]}))
'''


def run(writer: str, no_logs: bool, files: int, grid: int) -> dict:
    env = dict(os.environ)
    env.pop("ICECHUNK_NO_LOGS", None)
    if no_logs:
        env["ICECHUNK_NO_LOGS"] = "1"
    env["ICECHUNK_LOG"] = "error"
    with tempfile.TemporaryDirectory() as tmp:
        args = {"writer": writer, "files": files, "grid": grid, "tmp": tmp, "here": str(Path(__file__).parent)}
        proc = subprocess.run([sys.executable, "-c", WORKER, json.dumps(args)], capture_output=True, text=True,
                              env=env, check=False)
    if proc.returncode:
        raise SystemExit(f"{writer} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--grid", type=int, default=32, help="chunks per file along y and x")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    cases = [(w, nl) for nl in (False, True) for w in ("to_icechunk", "publish", "icechunk_alone")]
    results: dict[tuple[str, bool], list[dict]] = {c: [] for c in cases}
    for _ in range(args.rounds):
        for case in cases:
            results[case].append(run(*case, args.files, args.grid))
    refs = args.files * args.grid * args.grid
    print(f"{refs} references ({args.files} files x {args.grid}x{args.grid} chunks), median of {args.rounds} "
          f"round(s), load average {os.getloadavg()[0]:.1f}")
    print(f"{'writer':<14} {'ICECHUNK_NO_LOGS':<17} {'write s':>8} {'cpu s':>7} {'commit s':>9} {'refs/s':>10} "
          f"{'refs/cpu-s':>11} {'+commit':>10}")
    rate = {}
    for (writer, no_logs), rows in results.items():
        write = statistics.median(r["write"] for r in rows)
        cpu = statistics.median(r["cpu"] for r in rows)
        commit = statistics.median(r["commit"] for r in rows)
        rate[(writer, no_logs)] = refs / write
        print(f"{writer:<14} {'set' if no_logs else 'unset':<17} {write:8.2f} {cpu:7.2f} {commit:9.2f} "
              f"{refs / write:10.0f} {refs / cpu:11.0f} {refs / (write + commit):10.0f}")
    for no_logs in (False, True):
        label = "set" if no_logs else "unset"
        print(f"publish / to_icechunk, ICECHUNK_NO_LOGS {label}: "
              f"{rate[('publish', no_logs)] / rate[('to_icechunk', no_logs)]:.1f}x")
    cross = rate[("publish", True)] / rate[("to_icechunk", False)]
    print(f"publish (NO_LOGS set) / to_icechunk (default): {cross:.1f}x")
    print(f"\nmicroseconds per reference (median)\n{'writer':<14} {'ICECHUNK_NO_LOGS':<17} {'set_refs(_arr)':>16} "
          f"{'commit':>7} {'rest of write':>13} {'total':>7}")
    per = {}
    for (writer, no_logs), rows in results.items():
        set_us = statistics.median(r["set"] for r in rows) / refs * 1e6
        commit_us = statistics.median(r["commit"] for r in rows) / refs * 1e6
        rest_us = statistics.median(r["write"] - r["set"] for r in rows) / refs * 1e6
        per[(writer, no_logs)] = (set_us, commit_us, rest_us)
        print(f"{writer:<14} {'set' if no_logs else 'unset':<17} {set_us:16.2f} {commit_us:7.2f} "
              f"{rest_us:13.2f} {set_us + commit_us + rest_us:7.2f}")
    print("icechunk_alone: one set_virtual_refs_arr per array with everything prepared beforehand (untimed) and "
          "the commit, nothing else: what Icechunk itself needs for these references, whoever calls it")
    for no_logs in (False, True):
        floor = sum(per[("icechunk_alone", no_logs)])
        vz = sum(per[("to_icechunk", no_logs)])
        ours = sum(per[("publish", no_logs)])
        print(f"ICECHUNK_NO_LOGS {'set' if no_logs else 'unset'}: Icechunk alone {floor:.2f} us/ref; publish "
              f"{ours:.2f} (Icechunk's floor is {floor / ours:.0%} of it); to_icechunk {vz:.2f}: no writer on "
              f"this API can beat to_icechunk by more than {vz / floor:.1f}x (publish: {vz / ours:.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
