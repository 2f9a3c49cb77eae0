"""Issue 6 acceptance, end to end with real components: S3 (moto) -> open_virtual_cube -> Icechunk -> xarray.

    python scripts/acceptance/cube_s3.py                 # 200 stitched files + 20 (+3) time steps
    python scripts/acceptance/cube_s3.py --files 20 --seed 7 --workdir /tmp/accept

What it does, with nothing mocked:

1. Writes deterministic COGs with rasterio (256 x 256 uint16, DEFLATE, 128 px tiles, EPSG:32633): ``--files``
   tiles on a 10-column aligned grid (the stitched variant) and 20 dates over one tile (the time-stacked
   variant, date in the file name), and uploads them to moto's S3 on 127.0.0.1.
2. Builds both cubes from ``s3://`` URLs with ``open_virtual_cube`` (stitched; stacked along ``time`` from the
   file-name pattern), publishes them to one on-disk Icechunk repository (groups ``stitched`` and ``stack``),
   then reads them in a fresh Python process that imports only icechunk + xarray (it checks that
   ``virtual_geotiff`` never entered ``sys.modules``): random windows (each a separate read) and the whole
   arrays. The reference is rasterio reading the same S3 objects through GDAL's ``/vsis3/`` (endpoint, path
   style, plain HTTP pointed at moto), each file placed at its pixel offset on the grid.
3. Drift: overwrites one stitched source object; in a fresh reader a window over it fails naming the
   object, a window elsewhere still reads, and ``verify`` lists exactly that object.
4. Append: 3 more dates go into the ``stack`` group as one commit; the earlier snapshot reads as before and
   the new head holds the old steps plus the new ones.

Prints a table of PASS/FAIL per check and the build/publish rates; exits 1 when any check fails.
"""

from __future__ import annotations

import os

# Icechunk's tracing subscriber formats every reference; switch it off before icechunk is first imported.
os.environ.setdefault("ICECHUNK_NO_LOGS", "1")

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

warnings.filterwarnings("ignore", message="Numcodecs codecs are not in the Zarr version 3")

SIZE, BLOCK, RES = 256, 128, 10.0
X0, Y0 = 500_000.0, 5_000_000.0
COLS = 10
STACK_DATES = 20
APPEND_DATES = 3
WINDOWS = 20
BUCKET = "acceptance"
CRS = "EPSG:32633"
DATE_PATTERN, DATE_FORMAT = r"_(\d{8})\.tif$", "%Y%m%d"

#: The fresh reader: icechunk + xarray only. Runs the jobs in argv[1] (JSON) and saves the arrays it read.
READER = textwrap.dedent("""
    import json, sys, time
    import icechunk, numpy as np, xarray as xr

    spec = json.loads(sys.argv[1])
    creds = icechunk.containers_credentials({spec["prefix"]: icechunk.s3_credentials(
        access_key_id=spec["key"], secret_access_key=spec["secret"])})
    repo = icechunk.Repository.open(icechunk.local_filesystem_storage(spec["repo"]),
                                    authorize_virtual_chunk_access=creds)
    arrays, answer = {}, {}
    for job in spec["jobs"]:
        out = answer[job["name"]] = {"windows": []}
        try:
            session = (repo.readonly_session(snapshot_id=job["snapshot"]) if job.get("snapshot")
                       else repo.readonly_session(branch="main"))
            ds = xr.open_zarr(session.store, group=job["group"], zarr_format=3, consolidated=False,
                              mask_and_scale=False)
            var = ds[job["var"]]
            out["shape"] = list(var.shape)
            out["dims"] = list(var.dims)
            out["coords"] = {c: [str(v) for v in ds[c].values[[0, -1]]] for c in ds[job["var"]].dims}
            out["crs_wkt"] = "crs_wkt" in ds["spatial_ref"].attrs
        except Exception as exc:
            out["error"] = f"{type(exc).__name__}: {exc}"
            continue
        t0 = time.perf_counter()
        for i, window in enumerate(job["windows"]):
            try:
                arrays[f"{job['name']}/w{i}"] = var[tuple(slice(a, b) for a, b in window)].values
                out["windows"].append(None)
            except Exception as exc:
                out["windows"].append(f"{type(exc).__name__}: {exc}")
        out["windows_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if job.get("full"):
            try:
                arrays[f"{job['name']}/full"] = var.values
            except Exception as exc:
                out["full_error"] = f"{type(exc).__name__}: {exc}"
        out["full_s"] = time.perf_counter() - t0
    np.savez(spec["out"], **arrays)
    answer["_imported_virtual_geotiff"] = sorted(m for m in sys.modules if m.startswith("virtual_geotiff"))
    print(json.dumps(answer))
    # icechunk/obstore runtime threads can abort a normal interpreter exit (SIGABRT, "PyGILState_Release");
    # the answer is complete here: leave without the teardown that races them (tests/icechunk/test_icechunk_s3.py too).
    sys.stdout.flush()
    import os
    os._exit(0)
""")


# ----------------------------------------------------------------------------------------------- results


@dataclass
class Report:
    rows: list[tuple[str, bool, str]] = field(default_factory=list)
    timings: list[tuple[str, str]] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.rows.append((name, bool(ok), detail))
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)
        return bool(ok)

    def attempt(self, name: str, fn: Callable[[], tuple[bool, str]]) -> bool:
        """Run one check; an exception is a FAIL with its message, and the run goes on."""
        try:
            ok, detail = fn()
        except Exception as exc:
            traceback.print_exc()
            ok, detail = False, f"{type(exc).__name__}: {str(exc)[:300]}"
        return self.check(name, ok, detail)

    def timing(self, name: str, value: str) -> None:
        self.timings.append((name, value))
        print(f"  time  {name}: {value}", flush=True)

    @property
    def failed(self) -> int:
        return sum(not ok for _, ok, _ in self.rows)

    def table(self) -> str:
        width = max(len(n) for n, _, _ in self.rows + [(n, True, "") for n, _ in self.timings])
        lines = [f"{'check'.ljust(width)}  result  detail", f"{'-' * width}  ------  ------"]
        lines += [f"{n.ljust(width)}  {'PASS' if ok else 'FAIL'}    {d}" for n, ok, d in self.rows]
        lines += ["", f"{'timing'.ljust(width)}  value", f"{'-' * width}  -----"]
        lines += [f"{n.ljust(width)}  {v}" for n, v in self.timings]
        verdict = "ALL PASS" if not self.failed else f"{self.failed} FAIL"
        lines += ["", f"{verdict} ({len(self.rows)} checks)"]
        return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- sources


def tile_data(seed: int, key: int) -> np.ndarray:
    """Deterministic, compressible, different per file: a gradient plus a little seeded noise."""
    rng = np.random.default_rng([seed, key])
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    return ((yy * 3 + xx * 5 + key * 977) % 60_000 + rng.integers(0, 64, (SIZE, SIZE))).astype(np.uint16)


def write_cog(path: Path, data: np.ndarray, row: int, col: int) -> None:
    import rasterio
    from rasterio.transform import from_origin

    transform = from_origin(X0 + col * SIZE * RES, Y0 - row * SIZE * RES, RES, RES)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", driver="COG", width=SIZE, height=SIZE, count=1, dtype="uint16", crs=CRS,
                       transform=transform, compress="DEFLATE", blocksize=BLOCK,
                       overview_resampling="nearest") as dst:
        dst.write(data, 1)


def stack_dates(first: int, count: int) -> list[str]:
    start = date(2024, 1, 1)
    return [(start + timedelta(days=5 * k)).strftime("%Y%m%d") for k in range(first, first + count)]


def key_of(url: str) -> str:
    return url.split(f"s3://{BUCKET}/", 1)[1]


# ----------------------------------------------------------------------------------------------- rasterio


def rasterio_env(s3: Any) -> Any:
    """GDAL's /vsis3/ pointed at moto (path style, plain HTTP, dummy keys, nothing cached between runs)."""
    import rasterio
    from rasterio.session import AWSSession

    session = AWSSession(aws_access_key_id=s3.access_key_id, aws_secret_access_key=s3.secret_access_key,
                         region_name=s3.region, endpoint_url=f"{s3.host}:{s3.port}")
    return rasterio.Env(session, AWS_HTTPS="NO", AWS_VIRTUAL_HOSTING="FALSE", GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR",
                        VSI_CACHE=False, CPL_VSIL_CURL_CACHE_SIZE=0, GDAL_HTTP_MAX_RETRY=0)


def rasterio_mosaic(urls: list[str], s3: Any) -> tuple[np.ndarray, tuple[float, float]]:
    """Every object read by rasterio via /vsis3/, placed at its pixel offset on the grid of the top-left one."""
    import rasterio

    reads = []
    with rasterio_env(s3):
        for url in urls:
            with rasterio.open("/vsis3/" + url.removeprefix("s3://")) as src:
                reads.append((src.transform.c, src.transform.f, src.read(1)))
    c0, f0 = min(r[0] for r in reads), max(r[1] for r in reads)
    places = [(round((f0 - f) / RES), round((c - c0) / RES), d) for c, f, d in reads]
    out = np.zeros((max(r + SIZE for r, _, _ in places), max(c + SIZE for _, c, _ in places)), np.uint16)
    for r, c, d in places:
        out[r:r + d.shape[0], c:c + d.shape[1]] = d
    return out, (c0 + RES / 2, f0 - RES / 2)


def rasterio_stack(urls: list[str], s3: Any) -> np.ndarray:
    import rasterio

    with rasterio_env(s3):
        return np.stack([rasterio.open("/vsis3/" + u.removeprefix("s3://")).read(1) for u in urls])


# ----------------------------------------------------------------------------------------------- reading


def random_windows(shape: tuple[int, ...], rng: np.random.Generator, n: int) -> list[list[tuple[int, int]]]:
    """``n`` windows of random size and position: up to 1.5 tiles per spatial axis (so most cross tiles and
    chunks), up to 4 steps along a stack axis."""
    out = []
    for _ in range(n):
        window = []
        for axis, size in enumerate(shape):
            span = int(rng.integers(1, min(size, SIZE + BLOCK if axis >= len(shape) - 2 else 4) + 1))
            start = int(rng.integers(0, size - span + 1))
            window.append((start, start + span))
        out.append(window)
    return out


def fresh_read(workdir: Path, repo_dir: Path, prefix: str, s3: Any, jobs: list[dict[str, Any]], tag: str,
               ) -> tuple[dict[str, Any], dict[str, np.ndarray], float]:
    """Run READER in a new interpreter (cwd outside the source tree, minimal environment)."""
    out = workdir / f"read-{tag}.npz"
    spec = {"repo": str(repo_dir), "prefix": prefix, "key": s3.access_key_id, "secret": s3.secret_access_key,
            "out": str(out), "jobs": jobs}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", READER, json.dumps(spec)], capture_output=True, text=True,
                          timeout=600, cwd=workdir, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                                         "ICECHUNK_NO_LOGS": "1", "HOME": str(workdir)})
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"reader exited {proc.returncode}: {proc.stderr[-2000:]}")
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    with np.load(out) as data:
        arrays = {k: data[k] for k in data.files}
    return answer, arrays, elapsed


def sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def compare(name: str, answer: dict[str, Any], arrays: dict[str, np.ndarray], expected: np.ndarray,
            windows: list[list[tuple[int, int]]]) -> tuple[bool, str]:
    job = answer[name]
    if "error" in job:
        return False, f"open failed: {job['error']}"
    if tuple(job["shape"]) != expected.shape:
        return False, f"shape {job['shape']} != rasterio {list(expected.shape)}"
    bad = []
    for i, (window, error) in enumerate(zip(windows, job["windows"])):
        want = expected[tuple(slice(a, b) for a, b in window)]
        if error is not None:
            bad.append(f"w{i}: {error}")
        elif not np.array_equal(arrays[f"{name}/w{i}"], want):
            bad.append(f"w{i} {window}: values differ")
    full = arrays.get(f"{name}/full")
    if full is None:
        bad.append(f"full read: {job.get('full_error')}")
    elif not np.array_equal(full, expected):
        bad.append(f"full array sha {sha(full)} != rasterio {sha(expected)}")
    if bad:
        return False, "; ".join(bad[:3]) + (f" (+{len(bad) - 3})" if len(bad) > 3 else "")
    pixels = sum(int(np.prod([b - a for a, b in w])) for w in windows)
    return True, (f"shape {list(expected.shape)}, {len(windows)} windows ({pixels} px) and full array equal "
                  f"rasterio, sha256 {sha(full)}")


# ----------------------------------------------------------------------------------------------- the run


def run(args: argparse.Namespace, workdir: Path, report: Report) -> None:
    import icechunk as ic

    from virtual_geotiff import icechunk as vic
    from virtual_geotiff.cube import open_virtual_cube
    from virtual_geotiff.testing import S3Server

    rng = np.random.default_rng(args.seed)
    rows = args.files // COLS
    cogs = workdir / "cogs"

    with S3Server() as s3:
        s3.make_bucket(BUCKET)
        registry = s3.registry(BUCKET)

        # 1. sources -------------------------------------------------------------------------------------
        t0 = time.perf_counter()
        stitched_urls = []
        for k in range(args.files):
            r, c = divmod(k, COLS)
            path = cogs / "stitched" / f"tile_r{r:03d}_c{c:02d}.tif"
            write_cog(path, tile_data(args.seed, k), r, c)
            stitched_urls.append(s3.upload(BUCKET, f"archive/stitched/{path.name}", path))
        stack_urls, append_urls = [], []
        for k, stamp in enumerate(stack_dates(0, STACK_DATES + APPEND_DATES)):
            path = cogs / "stack" / f"T33UXP_{stamp}.tif"
            write_cog(path, tile_data(args.seed, 100_000 + k), 0, 0)
            url = s3.upload(BUCKET, f"archive/stack/{path.name}", path)
            (stack_urls if k < STACK_DATES else append_urls).append(url)
        report.timing("generate + upload", f"{len(stitched_urls) + len(stack_urls) + len(append_urls)} COGs in "
                                           f"{time.perf_counter() - t0:.1f} s (moto at {s3.endpoint})")

        t0 = time.perf_counter()
        expected_stitched, (x_center, y_center) = rasterio_mosaic(stitched_urls, s3)
        expected_stack = rasterio_stack(stack_urls, s3)
        expected_append = rasterio_stack(append_urls, s3)
        report.timing("rasterio reference", f"{len(stitched_urls) + len(stack_urls) + len(append_urls)} objects "
                                            f"via /vsis3/ in {time.perf_counter() - t0:.1f} s")

        # 2. build, publish, read back -------------------------------------------------------------------
        t0 = time.perf_counter()
        stitched = open_virtual_cube(stitched_urls, registry)
        build_s = time.perf_counter() - t0
        report.timing("build stitched", f"{len(stitched_urls)} files in {build_s:.2f} s = "
                                        f"{len(stitched_urls) / build_s:.0f} files/s")
        t0 = time.perf_counter()
        stack = open_virtual_cube(stack_urls, registry, stack_values=DATE_PATTERN, stack_format=DATE_FORMAT)
        build_s = time.perf_counter() - t0
        report.timing("build time-stacked", f"{len(stack_urls)} files in {build_s:.2f} s = "
                                            f"{len(stack_urls) / build_s:.0f} files/s")
        report.check("build shapes", stitched.dataset["data"].shape == expected_stitched.shape
                     and stack.dataset["data"].shape == expected_stack.shape,
                     f"stitched {stitched.dataset['data'].shape} ({rows} x {COLS} tiles), "
                     f"time-stacked {stack.dataset['data'].shape}")

        repo_dir = workdir / "repo"
        storage = ic.local_filesystem_storage(str(repo_dir))
        all_sources = {**stitched.sources, **stack.sources}
        repo = vic.create_repository(storage, all_sources, registry=registry)
        prefixes = list(repo.config.virtual_chunk_containers)
        prefix = prefixes[0]
        published = {}
        for group, cube in (("stitched", stitched), ("stack", stack)):
            result = vic.publish(cube, repo, group=group)
            published[group] = result
            spent = result.seconds + result.commit_seconds
            report.timing(f"publish {group}", f"{result.total_references} refs in {spent:.2f} s = "
                                              f"{result.total_references / spent:.0f} refs/s "
                                              f"(commit {result.commit_seconds:.2f} s)")
        report.check("publish", prefixes == [f"s3://{BUCKET}/archive/"] and all(p.snapshot_id for p in
                                                                                   published.values()),
                     f"container {prefixes}; commits: " + " | ".join(p.message for p in published.values()))

        stitched_windows = random_windows(expected_stitched.shape, rng, WINDOWS)
        stack_windows = random_windows(expected_stack.shape, rng, WINDOWS)
        jobs = [{"name": "stitched", "group": "stitched", "var": "data", "windows": stitched_windows, "full": True},
                {"name": "stack", "group": "stack", "var": "data", "windows": stack_windows, "full": True}]
        answer, arrays, read_s = fresh_read(workdir, repo_dir, prefix, s3, jobs, "baseline")
        parts = ", ".join(f"{n}: windows {answer[n].get('windows_s', 0):.1f} s, full {answer[n].get('full_s', 0):.1f} s"
                          for n in ("stitched", "stack"))
        report.timing("fresh-process read", f"{read_s:.1f} s in all ({parts})")
        imported = answer["_imported_virtual_geotiff"]
        report.check("reader never imported virtual_geotiff", not imported, f"modules: {imported or 'none'}")
        report.attempt("stitched == rasterio (/vsis3)",
                       lambda: compare("stitched", answer, arrays, expected_stitched, stitched_windows))
        report.attempt("time-stacked == rasterio (/vsis3)",
                       lambda: compare("stack", answer, arrays, expected_stack, stack_windows))

        def coords_ok() -> tuple[bool, str]:
            s, t = answer["stitched"], answer["stack"]
            want_time = [f"{d[:4]}-{d[4:6]}-{d[6:]}T00:00:00.000000000" for d in stack_dates(0, STACK_DATES)]
            got = (s["coords"]["x"][0], s["coords"]["y"][0], t["coords"]["time"], s["crs_wkt"] and t["crs_wkt"])
            want = (str(x_center), str(y_center), [want_time[0], want_time[-1]], True)
            return got == want, f"x0 {got[0]}, y0 {got[1]}, time {got[2][0][:10]}..{got[2][1][:10]}, crs_wkt {got[3]}"

        report.attempt("coordinates (x/y centres, time from file names, CRS)", coords_ok)

        # 3. drift --------------------------------------------------------------------------------------------
        victim = int(rng.integers(0, args.files))
        victim_url = stitched_urls[victim]
        r, c = divmod(victim, COLS)
        other = (victim + COLS // 2) % args.files if args.files > 1 else victim
        orow, ocol = divmod(other, COLS)
        before = s3.client.head_object(Bucket=BUCKET, Key=key_of(victim_url))["ETag"]
        changed = cogs / "changed.tif"
        write_cog(changed, tile_data(args.seed + 1, victim), r, c)
        s3.upload(BUCKET, key_of(victim_url), changed)
        after = s3.client.head_object(Bucket=BUCKET, Key=key_of(victim_url))["ETag"]
        tile_window = [(r * SIZE, (r + 1) * SIZE), (c * SIZE, (c + 1) * SIZE)]
        other_window = [(orow * SIZE, (orow + 1) * SIZE), (ocol * SIZE, (ocol + 1) * SIZE)]
        drift_jobs = [{"name": "drift", "group": "stitched", "var": "data", "windows": [tile_window, other_window]}]
        answer, arrays, _ = fresh_read(workdir, repo_dir, prefix, s3, drift_jobs, "drift")

        def drift_read() -> tuple[bool, str]:
            error = answer["drift"]["windows"][0]
            ok = bool(error) and victim_url in error and "checksum" in error
            first = (error or "no error!").strip().splitlines()[0].removeprefix("IcechunkError:").strip(" x")
            return ok, f"ETag {before} -> {after}; read of tile r{r} c{c} failed: {first}"

        def drift_other() -> tuple[bool, str]:
            error = answer["drift"]["windows"][1]
            if error:
                return False, error[:200]
            want = expected_stitched[tuple(slice(a, b) for a, b in other_window)]
            return bool(np.array_equal(arrays["drift/w1"], want)), f"tile r{orow} c{ocol} still equals rasterio"

        def drift_verify() -> tuple[bool, str]:
            t = time.perf_counter()
            rep = vic.verify(repo, registry=registry, group="stitched")
            seconds = time.perf_counter() - t
            clean = vic.verify(repo, registry=registry, group="stack")
            reasons = [d.reason for d in rep.drifted]
            return rep.urls == [victim_url] and clean.ok, (
                f"stitched: {len(rep.drifted)} of {rep.checked} drifted {rep.urls} {reasons} in {seconds:.2f} s; "
                f"stack: {'ok' if clean.ok else clean.urls} ({clean.checked} checked)")

        report.attempt("drift: read of the changed object fails naming it", drift_read)
        report.attempt("drift: other objects still read", drift_other)
        report.attempt("drift: verify lists exactly the changed object", drift_verify)

        # 4. append ------------------------------------------------------------------------------------------
        old_snapshot = published["stack"].snapshot_id
        t0 = time.perf_counter()
        new = open_virtual_cube(append_urls, registry, stack_values=DATE_PATTERN, stack_format=DATE_FORMAT)
        appended = vic.append(new, repo, group="stack")
        report.timing("append", f"{len(append_urls)} files built + committed in {time.perf_counter() - t0:.2f} s "
                                f"({appended.total_references} refs)")
        ancestry = [s.id for s in repo.ancestry(branch="main")]
        one_commit = ancestry[:2] == [appended.snapshot_id, old_snapshot]
        report.check("append: one commit on top of the stack publish", one_commit,
                     f"snapshot {appended.snapshot_id}, parent {ancestry[1] if len(ancestry) > 1 else None}; "
                     f"message: {appended.message!r}")
        append_jobs = [
            {"name": "old", "group": "stack", "var": "data", "snapshot": old_snapshot, "windows": stack_windows,
             "full": True},
            {"name": "new", "group": "stack", "var": "data", "windows": [], "full": True},
        ]
        answer, arrays, _ = fresh_read(workdir, repo_dir, prefix, s3, append_jobs, "append")
        report.attempt("append: earlier snapshot reads as before",
                       lambda: compare("old", answer, arrays, expected_stack, stack_windows))
        expected_new = np.concatenate([expected_stack, expected_append])

        def new_head() -> tuple[bool, str]:
            ok, detail = compare("new", answer, arrays, expected_new, [])
            times = answer["new"].get("coords", {}).get("time", ["?", "?"])
            return ok, f"{detail}; time {times[0][:10]}..{times[-1][:10]}"

        report.attempt(f"append: head holds {STACK_DATES} + {APPEND_DATES} steps", new_head)
        after_append = vic.verify(repo, registry=registry, group="stack")
        report.check("append: verify stack after append", after_append.ok and after_append.checked ==
                     STACK_DATES + APPEND_DATES, str(after_append))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200, help="stitched tiles, a multiple of 10 (default 200)")
    parser.add_argument("--workdir", type=Path, help="where COGs, repository and reads go (default: a temp dir, "
                                                     "removed afterwards); must be empty or absent")
    parser.add_argument("--seed", type=int, default=0, help="data, windows and the drifted file (default 0)")
    args = parser.parse_args(argv)
    if args.files < COLS or args.files % COLS:
        parser.error(f"--files must be a positive multiple of {COLS}")
    report = Report()
    started = time.perf_counter()
    print(f"virtual-geotiff acceptance (issue 6): {args.files} stitched files on a {args.files // COLS} x {COLS} "
          f"grid + {STACK_DATES} (+{APPEND_DATES}) time steps, seed {args.seed}", flush=True)
    try:
        if args.workdir is not None:
            args.workdir.mkdir(parents=True, exist_ok=True)
            if any(args.workdir.iterdir()):
                parser.error(f"--workdir {args.workdir} is not empty")
            run(args, args.workdir.resolve(), report)
        else:
            with tempfile.TemporaryDirectory(prefix="vgt-accept-") as tmp:
                run(args, Path(tmp), report)
    except Exception as exc:
        traceback.print_exc()
        report.check("run completed", False, f"{type(exc).__name__}: {str(exc)[:300]}")
    report.timing("total", f"{time.perf_counter() - started:.1f} s")
    print()
    print(report.table())
    return 1 if report.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
