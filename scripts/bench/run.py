"""virtual-geotiff benchmark suite (issue 10): one interleaved run, ratios against the reference readers.

    python scripts/bench/run.py                 # full run (archive generated once into ~/.cache/...)
    python scripts/bench/run.py --smoke         # tiny archive, every code path, < 20 s (CI runs this)
    python scripts/bench/run.py --only local,reads --markdown docs/performance-results.md

Every section runs its contenders in turn, ``--repeat`` times (interleaved, so load from other processes
hits all of them alike) and keeps each one's best time. Ratios are ours / theirs for rates (higher is
better). See docs/performance.md for what each row means and the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# Icechunk's tracing formats every reference written unless this is set before it is imported (both the
# publisher and VirtualiZarr's to_icechunk gain; see docs/guides/performance.md).
os.environ.setdefault("ICECHUNK_NO_LOGS", "1")

import archive  # noqa: E402
import cases  # noqa: E402
import net  # noqa: E402

SECTIONS = ("local", "http", "s3", "requests", "icechunk", "reads", "memory")
#: Icechunk and memory cubes stack this many references per stacked file (the small-tiles COG).
LATENCIES = (0.0, 0.020)


@dataclass
class Row:
    section: str
    metric: str
    ours: float
    other: float | None = None
    other_name: str = ""
    unit: str = ""
    target: float | None = None  # minimum ours/other ratio (or maximum value when ``ceiling``)
    ceiling: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return None if not self.other else self.ours / self.other

    @property
    def met(self) -> str:
        if self.target is None:
            return ""
        value = self.ours if self.ceiling else self.ratio
        if value is None:
            return ""
        ok = value <= self.target if self.ceiling else value >= self.target
        return "yes" if ok else "NO"


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        print(_line(row), flush=True)

    def markdown(self) -> str:
        out = ["| section | metric | ours | reference | ours / reference | target | met |",
               "|---|---|---:|---:|---:|---:|:-:|"]
        for r in self.rows:
            ref = "" if r.other is None else f"{_fmt(r.other)} ({r.other_name})"
            ratio = "" if r.ratio is None else f"{r.ratio:.2f}x"
            target = "" if r.target is None else (f"<= {_fmt(r.target)}" if r.ceiling else f">= {r.target:g}x")
            note = f" — {r.note}" if r.note else ""
            out.append(f"| {r.section} | {r.metric}{note} | {_fmt(r.ours)} {r.unit} | {ref} | {ratio} | {target} | "
                       f"{r.met} |")
        return "\n".join(out) + "\n"


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _line(r: Row) -> str:
    ref = "" if r.other is None else f"  vs {r.other_name} {_fmt(r.other)}  = {r.ratio:.2f}x"
    tgt = "" if r.target is None else f"  [target {'<=' if r.ceiling else '>='} {r.target:g}: {r.met}]"
    return f"[{r.section}] {r.metric}: {_fmt(r.ours)} {r.unit}{ref}{tgt}"


def best_of(repeat: int, contenders: dict[str, Any]) -> dict[str, float]:
    """Interleaved: each repetition runs every contender once; returns each one's best seconds."""
    best = {name: float("inf") for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            best[name] = min(best[name], cases.timed(fn)[0])
    return best


def local_registry() -> Any:
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore

    return ObjectStoreRegistry({"file://": LocalStore()})


# -- sections -----------------------------------------------------------------------------------------


def section_local(root: Path, info: dict, args: Any, report: Report) -> None:
    from obstore.store import LocalStore

    spec = info["spec"]
    paths = [str(root / p) for p in info["cogs"]]
    urls = [Path(p).as_uri() for p in paths]
    grid = [urls[r * spec["cols"]:(r + 1) * spec["cols"]] for r in range(spec["rows"])]
    reg = local_registry()
    store = LocalStore(str(root))
    rel = list(info["cogs"])
    n = len(urls)
    best = best_of(args.repeat, {
        "ours": lambda: cases.ours_cube(urls, reg),
        "vt mfdataset(threads)": lambda: cases.vt_mfdataset(grid, reg),
        "vt parser loop": lambda: cases.vt_loop(urls, reg),
        "vt open_virtual_dataset loop": lambda: cases.vt_open_virtual_dataset_loop(urls, reg),
        "raw async-tiff gather": lambda: cases.raw_async_tiff(rel, store),
        "tifffile header loop": lambda: cases.tifffile_loop(paths),
    })
    ours = n / best["ours"]
    targets = {"vt mfdataset(threads)": 8.0, "raw async-tiff gather": 0.7}
    for name, secs in best.items():
        if name != "ours":
            report.add(Row("local", f"{n} COGs -> one stitched cube", ours, n / secs, name, "files/s",
                           targets.get(name)))


def _network_contenders(urls: list[str], paths: list[str], reg: Any, store: Any, per_stack: int,
                        loop_n: int) -> dict[str, Any]:
    return {
        "ours": lambda: cases.ours_cube(urls, reg, per_stack=per_stack),
        "raw async-tiff gather": lambda: cases.raw_async_tiff(paths, store),
        "vt parser x32 threads": lambda: cases.vt_threads(urls, reg),
        "vt parser loop": lambda: cases.vt_loop(urls[:loop_n], reg),
    }


def _network_rows(where: str, n: int, loop_n: int, best: dict[str, float], latency: float, report: Report) -> None:
    ours = n / best["ours"]
    ms = f"{latency * 1000:.0f} ms"
    targets = {"raw async-tiff gather": 0.8, "vt parser x32 threads": 2.0, "vt parser loop": 30.0} if latency else {}
    for name, secs in best.items():
        if name == "ours":
            continue
        files = loop_n if name == "vt parser loop" else n
        note = f"loop timed on {loop_n} files" if name == "vt parser loop" and loop_n < n else ""
        report.add(Row(f"{where} {ms}", f"{n} COGs -> one cube", ours, files / secs, name, "files/s",
                       targets.get(name), note=note))


def section_http(root: Path, info: dict, args: Any, report: Report) -> None:
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import HTTPStore

    many = info["many"][: args.files]
    per_stack = len(info["cogs"])
    with net.http_server(str(root)) as server:
        base = server.base
        for latency in LATENCIES:
            server.set_latency(latency)
            store = HTTPStore.from_url(base, client_options={"allow_http": True})
            reg = ObjectStoreRegistry({base: store})
            urls = [f"{base}/{p}" for p in many]
            loop_n = min(len(urls), args.loop_files)
            best = best_of(args.repeat, _network_contenders(urls, many, reg, store, per_stack, loop_n))
            _network_rows("http", len(urls), loop_n, best, latency, report)


def section_s3(root: Path, info: dict, args: Any, report: Report) -> None:
    import boto3
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import S3Store

    many = info["many"][: args.s3_files]
    per_stack = len(info["cogs"])
    with net.s3_server() as port:
        client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket="bench")
        heads = {p: (root / p).read_bytes() for p in info["cogs"]}
        for i, key in enumerate(many):
            client.put_object(Bucket="bench", Key=key, Body=heads[info["cogs"][i % len(info["cogs"])]])
        for latency in LATENCIES:
            with net.latency_proxy(port, latency) as proxy:
                store = S3Store("bench", endpoint=f"http://127.0.0.1:{proxy}", region="us-east-1",
                                access_key_id="testing", secret_access_key="testing",
                                virtual_hosted_style_request=False, client_options={"allow_http": True})
                reg = ObjectStoreRegistry({"s3://bench": store})
                urls = [f"s3://bench/{p}" for p in many]
                loop_n = min(len(urls), args.loop_files)
                best = best_of(args.repeat, _network_contenders(urls, many, reg, store, per_stack, loop_n))
                _network_rows("s3 (moto)", len(urls), loop_n, best, latency, report)


def section_requests(root: Path, info: dict, args: Any, report: Report) -> None:
    """Requests and bytes per header, counted by the HTTP server itself."""
    from obspec_utils.registry import ObjectStoreRegistry

    from virtual_geotiff.limits import Limits
    from virtual_geotiff.testing.servers import RangeHTTPServer
    from virtual_geotiff.tiff.headers import read_header

    classes = {"COG 1024 px": info["cogs"][:20], "COG 10980 px, 1024 tiles": ["big.tif"],
               "COG 10980 px, 256 tiles": ["small_tiles.tif"],
               "GeoTIFF with mask + overview IFDs after the pixels": ["late_ifds.tif"]}
    with RangeHTTPServer(root) as server:
        store = server.store()
        reg = ObjectStoreRegistry({server.url: store})

        def count(fn: Any, rels: list[str]) -> tuple[float, float]:
            server.clear()
            fn(rels)
            ranges = [r.range for r in server.records if r.method == "GET"]
            nbytes = 0
            for rng in ranges:
                start, end = rng.split("=")[1].split("-")
                nbytes += int(end) - int(start) + 1
            return len(server.records) / len(rels), nbytes / len(rels)

        def ours(rels: list[str]) -> None:
            async def main() -> None:
                for rel in rels:
                    await read_header(server.url_for(rel), reg, Limits())
            cases.asyncio.run(main())

        def vt(rels: list[str]) -> None:
            cases.vt_loop([server.url_for(r) for r in rels], reg)

        for label, rels in classes.items():
            header = _header_bytes(root / rels[0])
            o_req, o_bytes = count(ours, rels)
            v_req, v_bytes = count(vt, rels)
            r_req, r_bytes = count(lambda rs: cases.raw_async_tiff(rs, store), rels)
            budget = header + 64 * 1024
            report.add(Row("requests", f"{label}: requests per header", o_req, v_req, "vt", "req",
                           1.0 if label == "COG 1024 px" else None, ceiling=True,
                           note=f"raw async-tiff {r_req:.2f}"))
            report.add(Row("requests", f"{label}: bytes per header (IFDs and tag values end at byte {header:,})",
                           o_bytes, v_bytes, "vt", "B", budget if label.startswith("COG") else None, ceiling=True,
                           note=f"raw async-tiff {r_bytes:,.0f}"))


def _header_bytes(path: Path) -> int:
    """Bytes a header occupies: from 0 to the end of the last IFD or out-of-line tag value."""
    import tifffile

    end = 0
    with tifffile.TiffFile(path) as tif:
        entry, extra = (20, 16) if tif.is_bigtiff else (12, 6)
        for page in tif.pages:
            end = max(end, page.offset + extra + entry * len(page.tags))
            for tag in page.tags:
                if tag.valuebytecount > tif.tiff.tagoffsetthreshold:
                    end = max(end, tag.valueoffset + tag.valuebytecount)
    return end


def section_icechunk(root: Path, info: dict, args: Any, report: Report) -> None:
    reg = local_registry()
    urls = [(root / p).as_uri() for p in info["stack"][: args.icechunk_files]]
    cube = cases.ours_cube(urls, reg, per_stack=1)
    refs = cases.chunk_count(cube.dataset)
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        best = {"ours": float("inf"), "vz to_icechunk": float("inf")}
        alone = float("inf")
        for i in range(args.repeat):  # interleaved, the ceiling too: load spikes hit all three alike
            best["ours"] = min(best["ours"], cases.timed(partial(cases.ours_publish, cube, f"{tmp}/o{i}", reg))[0])
            best["vz to_icechunk"] = min(best["vz to_icechunk"],
                                         cases.timed(partial(cases.vz_to_icechunk, cube, f"{tmp}/v{i}", reg))[0])
            alone = min(alone, sum(cases.icechunk_alone(cube.dataset, cube.sources, f"{tmp}/a{i}", reg)))
    report.add(Row("icechunk", f"references/s publishing a {refs:,}-reference cube, per-file checksums (commit "
                   "included)", refs / best["ours"], refs / best["vz to_icechunk"], "vz to_icechunk", "refs/s", 1.1))
    report.add(Row("icechunk", "publish against the ceiling of Icechunk 2's API (one set_virtual_refs_arr per array, "
                   "no per-file checksums, + commit)", refs / best["ours"], refs / alone, "Icechunk alone", "refs/s",
                   0.9, note=f"{alone / refs * 1e6:.2f} us/ref in Icechunk alone; publish "
                             f"{best['ours'] / refs * 1e6:.2f}, to_icechunk {best['vz to_icechunk'] / refs * 1e6:.2f}"))


def section_reads(root: Path, info: dict, args: Any, report: Report) -> None:
    import icechunk as ic
    import numpy as np
    import zarr

    from virtual_geotiff import VirtualTIFF, use_default_decoders, use_fast_decoders
    from virtual_geotiff.icechunk import create_repository, open_repository, publish

    reg = local_registry()
    spec = info["spec"]
    for name, block, target in (("big.tif", spec["big_block"], 1.0), ("small_tiles.tif", spec["small_block"], 0.8)):
        path = str(root / name)
        url = (root / name).as_uri()
        from virtual_tiff import VirtualTIFF as VtTIFF

        # zarr picks a codec's implementation and the codec pipeline when an array is opened: open each
        # variant under its setting. "ours" = use_fast_decoders() (libdeflate + GroupedReadPipeline).
        use_default_decoders()
        ours_zarr = zarr.open_group(VirtualTIFF(ifd=0)(url, reg), mode="r", zarr_format=3)["0"]
        vt = zarr.open_group(VtTIFF(ifd=0)(url, reg), mode="r", zarr_format=3)["0"]
        use_fast_decoders(pipeline=False)
        ours_zpipe = zarr.open_group(VirtualTIFF(ifd=0)(url, reg), mode="r", zarr_format=3)["0"]
        use_fast_decoders()
        ours = zarr.open_group(VirtualTIFF(ifd=0)(url, reg), mode="r", zarr_format=3)["0"]
        with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
            cube = cases.ours_cube([url], reg)
            publish(cube.dataset, create_repository(ic.local_filesystem_storage(tmp), cube.sources, registry=reg),
                    sources=cube.sources, registry=reg)
            session = open_repository(ic.local_filesystem_storage(tmp), registry=reg).readonly_session("main")
            committed = zarr.open_group(session.store, mode="r", zarr_format=3)["data"]
            use_default_decoders()  # what a process that only opens the published store gets
            committed_default = zarr.open_group(session.store, mode="r", zarr_format=3)["data"]
            want = cases.read_rasterio(path, None, "1")
            for arr in (ours, committed, committed_default, ours_zpipe, ours_zarr, vt):
                np.testing.assert_array_equal(np.asarray(arr[:]).reshape(want.shape), want)
            wins = cases.windows(spec["big_size"], block, count=args.windows)

            def zread(arr: Any, windowed: bool, wins: list = wins) -> Any:
                def run() -> None:
                    for w in (wins if windowed else [None]):
                        cases.read_zarr(arr, w if w is None or arr.ndim == 2 else (0, *w))
                return run

            def rio(threads: str, windowed: bool, path: str = path, wins: list = wins) -> Any:
                return lambda: [cases.read_rasterio(path, x, threads) for x in (wins if windowed else [None])]

            for windowed in (False, True):
                best = best_of(args.repeat, {
                    "ours ManifestStore": zread(ours, windowed),
                    "ours ManifestStore, zarr's pipeline": zread(ours_zpipe, windowed),
                    "ours ManifestStore, zarr's zlib": zread(ours_zarr, windowed),
                    "ours Icechunk (committed)": zread(committed, windowed),
                    "ours Icechunk (committed), default decoders": zread(committed_default, windowed),
                    "vt ManifestStore": zread(vt, windowed),
                    "rasterio 1 thread": rio("1", windowed),
                    "rasterio ALL_CPUS": rio("ALL_CPUS", windowed),
                })
                nbytes = want.nbytes if not windowed else sum(
                    (w[0].stop - w[0].start) * (w[1].stop - w[1].start) * 2 for w in wins)
                what = "full read" if not windowed else f"{len(wins)} x 1024-px windows"
                rate = {k: nbytes / v / 1e6 for k, v in best.items()}
                for mine in ("ours ManifestStore", "ours Icechunk (committed)",
                             "ours Icechunk (committed), default decoders", "ours ManifestStore, zarr's pipeline",
                             "ours ManifestStore, zarr's zlib"):
                    for theirs in ("rasterio ALL_CPUS", "rasterio 1 thread"):
                        opt_in = "zarr's" not in mine and "default" not in mine
                        t = target if theirs == "rasterio ALL_CPUS" and opt_in else None
                        report.add(Row("reads", f"{name} {what}: {mine}", rate[mine], rate[theirs], theirs, "MB/s",
                                       t))
                report.add(Row("reads", f"{name} {what}: ours ManifestStore vs the reference's",
                               rate["ours ManifestStore"], rate["vt ManifestStore"], "vt ManifestStore", "MB/s"))


def section_memory(root: Path, info: dict, args: Any, report: Report) -> None:
    n = min(args.memory_files, len(info["stack"]))
    out = subprocess.run([sys.executable, __file__, "--rss-child", str(root), str(n)], capture_output=True,
                         text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    report.add(Row("memory", f"peak RSS building a {res['chunks']:,}-chunk cube ({n} files)", res["peak_mib"],
                   unit="MiB", target=1024 if res["chunks"] >= 1_000_000 else None, ceiling=True))
    report.add(Row("memory", "bytes per chunk reference held by the manifests (paths + offsets + lengths)",
                   res["manifest_bytes_per_ref"], unit="B", target=100, ceiling=True))
    report.add(Row("memory", "RSS growth per chunk reference during the build (allocator high-water included)",
                   res["bytes_per_ref"], unit="B"))


def rss_child(root: Path, n: int) -> None:
    """Build the stacked cube in a fresh process; print peak RSS and bytes per reference as JSON."""
    import numpy as np
    from virtualizarr.manifests import ManifestArray

    from virtual_geotiff.manifest import references

    info = json.loads((root / "archive.json").read_text())
    urls = [(root / p).as_uri() for p in info["stack"][:n]]
    reg = local_registry()
    cases.ours_cube(urls[:2], reg, per_stack=1)  # imports, CRS database, codec registry warmed
    before = _rss()
    cube = cases.ours_cube(urls, reg, per_stack=1)
    after = _rss()
    chunks = cases.chunk_count(cube.dataset)
    manifest = 0
    for v in cube.dataset.variables.values():
        if isinstance(v.data, ManifestArray):
            m = v.data.manifest
            lengths = np.strings.str_len(references(m).paths)
            # StringDType: 16 bytes per element, plus an arena copy of every string longer than 15 bytes
            manifest += m.nbytes + int(lengths[lengths > 15].sum())
    peak = _peak_rss() / 2**20
    print(json.dumps({"chunks": chunks, "peak_mib": peak, "bytes_per_ref": (after - before) / chunks,
                      "manifest_bytes_per_ref": manifest / chunks}))


def _warm_up(root: Path, info: dict) -> None:
    """Imports, the CRS database and codec registries, once, outside every timing."""
    reg = local_registry()
    urls = [(root / p).as_uri() for p in info["cogs"][:2]]
    cases.ours_cube(urls, reg)
    cases.vt_loop(urls, reg)


def _peak_rss() -> int:
    """This process's peak RSS (VmHWM). Not ``ru_maxrss``: Linux carries that over from the parent through
    fork and exec, so a child of a big benchmark process would report the parent's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# -- main ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> Report:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="tiny archive, every code path, < 20 s")
    p.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                   / "virtual-geotiff-bench", help="where the generated archive lives")
    p.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {SECTIONS}")
    p.add_argument("--repeat", type=int, default=None, help="interleaved repetitions (best kept)")
    p.add_argument("--files", type=int, default=None, help="files in the network runs (default 2000)")
    p.add_argument("--loop-files", type=int, default=200, help="files timed for virtual-tiff's plain loop")
    p.add_argument("--icechunk-files", type=int, default=136, help="stacked files in the Icechunk cube")
    p.add_argument("--memory-files", type=int, default=541, help="stacked files in the memory cube (x1849)")
    p.add_argument("--s3-files", type=int, default=400,
                   help="files in the S3 runs (moto keeps every object in memory: 1.7 MB each)")
    p.add_argument("--windows", type=int, default=4, help="1024-px windows read per repetition")
    p.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    p.add_argument("--tmp", default=None, help="scratch directory for Icechunk repositories")
    p.add_argument("--rss-child", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rss_child:
        rss_child(Path(args.rss_child[0]), int(args.rss_child[1]))
        return Report()
    spec = archive.Spec.smoke() if args.smoke else archive.Spec()
    root = args.cache / ("smoke" if args.smoke else "full")
    if args.repeat is None:
        args.repeat = 1 if args.smoke else 3
    if args.files is None:
        args.files = spec.many
    if args.smoke:
        args.loop_files, args.icechunk_files, args.memory_files, args.windows = 6, 4, 4, 1
        args.s3_files = spec.many
    info = archive.ensure_archive(root, spec)
    report = Report()
    _warm_up(root, info)
    started = time.perf_counter()
    print(f"virtual-geotiff benchmark: {'smoke' if args.smoke else 'full'} archive {root}, repeat={args.repeat}, "
          f"{os.cpu_count()} CPUs", flush=True)
    for name in args.only.split(","):
        begun = time.perf_counter()
        globals()[f"section_{name.strip()}"](root, info, args, report)
        print(f"  ({name.strip()}: {time.perf_counter() - begun:.1f} s)", flush=True)
    print(f"done in {time.perf_counter() - started:.1f} s", flush=True)
    if args.markdown:
        args.markdown.write_text(report.markdown())
    return report


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    os._exit(0)  # async-tiff's runtime threads can abort a normal interpreter exit (see tiff/reader.py)
