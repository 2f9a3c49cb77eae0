"""The ``virtual-geotiff`` command: inspect a TIFF, build a virtual cube from many, verify a published one.

- ``inspect URL``: IFDs, layout, codec chain and portability (``--json`` for scripts);
- ``build URL... --to PATH``: many GeoTIFFs -> one virtual cube (``cube.open_virtual_cube``) written to an
  Icechunk repository (``icechunk.publish``/``append``; a directory or ``s3://bucket/prefix``) or to kerchunk
  references (``.json``/``.parquet``), with a progress bar and a summary table;
- ``build --stac CATALOG --assets B02,B03 --to ...``: STAC items -> one group of band variables per CRS and
  resolution (``stac.open_stac_cube`` / ``icechunk.publish_bands``);
- ``append``: ``build --append`` (new time steps, or new items, added to a published cube);
- ``verify REPO``: which published source files changed since (``icechunk.verify``).

The commands only map arguments onto those library functions and print their results.

Exit codes: 0 success; 1 the files cannot be mapped or combined (TIFF format, unsupported feature, files
not on one grid; nothing written); 2 bad usage; 3 a file or repository cannot be read (missing, no store,
network); 4 ``verify`` found drifted sources; 5 ``build --on-error skip`` wrote a cube but skipped files;
70 internal error (rerun with --debug).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from ._version import __version__
from .errors import (
    FailedSourcesError,
    IncompatibleSourcesError,
    InvalidArgumentError,
    TiffFormatError,
    UnsupportedTiffError,
    VirtualGeoTiffError,
)
from .limits import Limits
from .readers import describe as describe_readers
from .readers import readable_by
from .tiff.tags import Compression, Predictor

EXIT_OK, EXIT_UNMAPPABLE, EXIT_USAGE, EXIT_UNREADABLE, EXIT_DRIFT, EXIT_PARTIAL, EXIT_INTERNAL = 0, 1, 2, 3, 4, 5, 70


def _registry_for(url: str, args: argparse.Namespace | None = None):
    return registry_for([url], s3=_s3(args) if args is not None else None,
                        allow_http=bool(getattr(args, "allow_http", False)))


def _s3(args: argparse.Namespace) -> Any:
    from .s3settings import S3Settings

    return S3Settings.from_env(endpoint_url=getattr(args, "endpoint_url", None), region=getattr(args, "region", None),
                               allow_http=getattr(args, "allow_http", None))


def _normalise(url: str) -> str:
    return url if "://" in url else "file://" + str(Path(url).resolve())


def _tag_name(enum: Any, value: int, names: dict[int, str] | None = None) -> str:
    """``8`` -> ``"DEFLATE"``: the name GDAL users know, else the enum's, else the number."""
    if names and value in names:
        return names[value]
    try:
        return enum(value).name
    except ValueError:
        return f"unknown ({value})"


#: Names as ``gdalinfo`` prints them where they differ from the TIFF enum's.
_COMPRESSION_NAMES = {Compression.ADOBE_DEFLATE: "DEFLATE", Compression.DEFLATE: "DEFLATE (old code 32946)",
                      Compression.NONE: "none", Compression.ZSTD: "ZSTD", Compression.WEBP: "WEBP",
                      Compression.JPEGXL: "JXL", Compression.ZSTD_DEPRECATED: "ZSTD (old code 34926)",
                      Compression.WEBP_DEPRECATED: "WEBP (old code 34927)"}
_PREDICTOR_NAMES = {Predictor.NONE: "none", Predictor.HORIZONTAL: "horizontal",
                    Predictor.FLOATINGPOINT: "floating point"}


def describe(url: str, limits: Limits | None = None, args: argparse.Namespace | None = None) -> dict[str, Any]:
    """Everything ``inspect`` reports, as JSON-ready data (one entry per IFD)."""
    from ._sync import run_sync
    from .arrays.planned import plan_ifd
    from .tiff.headers import read_header

    limits = limits or Limits()
    url = _normalise(url)
    header = run_sync(read_header(url, _registry_for(url, args), limits))
    ifds = []
    for ifd in header.ifds:
        entry: dict[str, Any] = {
            "ifd": ifd.index,
            "width": ifd.width,
            "height": ifd.height,
            "samples_per_pixel": ifd.samples_per_pixel,
            "bits_per_sample": ifd.bits_per_sample,
            "compression": ifd.compression,
            "compression_name": _tag_name(Compression, ifd.compression, _COMPRESSION_NAMES),
            "predictor": ifd.predictor,
            "predictor_name": _tag_name(Predictor, ifd.predictor or 1, _PREDICTOR_NAMES),
            "photometric": ifd.photometric,
            "planar": ifd.planar,
            "layout": "tiles" if ifd.is_tiled else "strips",
            "block": [ifd.tile_height or ifd.rows_per_strip, ifd.tile_width or ifd.width],
            "subfile_type": ifd.subfile_type,
            "georeferenced": ifd.geo.is_georeferenced,
        }
        try:
            planned = plan_ifd(ifd, header, limits)
            layout, plan = planned.layout, planned.plan
        except VirtualGeoTiffError as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
        else:
            entry.update(
                dtype=str(plan.dtype),
                shape=list(layout.shape),
                chunks=list(layout.chunks),
                missing_chunks=int(layout.missing.sum()),
                codecs=[c["name"] for c in plan.codecs],
                custom_codecs=list(plan.custom_codecs),
                portable=plan.portable,
                readable_by=readable_by([plan.codecs]),
            )
        ifds.append(entry)
    return {"url": url, "byteorder": "II" if header.byteorder == "<" else "MM", "bigtiff": header.bigtiff,
            "header_requests": header.stats.requests, "header_bytes": header.stats.bytes, "ifds": ifds}


def _print_human(info: dict[str, Any]) -> None:
    print(f"{info['url']}  ({info['byteorder']}{', BigTIFF' if info['bigtiff'] else ''}, "
          f"header read in {info['header_requests']} request(s), {info['header_bytes']} bytes)")
    for d in info["ifds"]:
        print(f"  IFD {d['ifd']}: {d['width']} x {d['height']} x {d['samples_per_pixel']} samples, "
              f"{d['bits_per_sample']}-bit, {d['layout']} of {d['block'][0]} x {d['block'][1]}, "
              f"compression {d['compression_name']}, predictor {d['predictor_name']}")
        if "error" in d:
            print(f"    cannot be mapped: {d['error']}")
            continue
        print(f"    zarr: {d['dtype']} {d['shape']} chunks {d['chunks']} ({d['missing_chunks']} missing), "
              f"codecs {' -> '.join(d['codecs'])}")
        print(f"    readable by: {describe_readers(d['readable_by'])}")


# ---------------------------------------------------------------------------------------------- inputs


def _store_for_prefix(prefix: str, s3: Any = None, allow_http: bool = False) -> Any:
    import obstore

    if prefix.startswith("file://"):
        return obstore.store.LocalStore()
    if prefix.startswith("s3://"):
        from .s3settings import S3Settings

        return (s3 or S3Settings.from_env()).obstore_store(prefix[len("s3://"):].split("/", 1)[0])
    if prefix.startswith("http://") and allow_http:
        return obstore.store.from_url(prefix, client_options={"allow_http": True})
    return obstore.store.from_url(prefix)


def _prefix(url: str) -> str:
    return "file://" if url.startswith("file://") else "/".join(url.split("/", 3)[:3])


def registry_for(urls: list[str], wrap: Any = None, *, s3: Any = None, allow_http: bool = False,
                 prefixes: list[str] | None = None) -> Any:
    """One obstore store per scheme/bucket/host of ``urls`` (S3 settings: ``s3``, else the usual AWS_*
    variables), or exactly one per entry of ``prefixes`` (a directory, bucket or bucket/prefix: the grant)."""
    from obspec_utils.registry import ObjectStoreRegistry

    stores = {}
    for prefix in prefixes if prefixes is not None else sorted({_prefix(u) for u in urls}):
        store = _store_for_prefix(prefix if prefixes is None else _prefix(prefix), s3, allow_http)
        stores[prefix.rstrip("/") if prefixes is not None else prefix] = wrap(store) if wrap else store
    return ObjectStoreRegistry(stores)


def _has_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def expand_inputs(items: list[str], from_file: str | None, args: argparse.Namespace | None = None) -> list[str]:
    """URLs and paths from the command line and ``--from-file`` (one per line, ``#`` comments, ``-`` for
    stdin), with glob patterns expanded: local ones by the filesystem, remote ones by listing the store."""
    items = list(items)
    if from_file:
        lines = sys.stdin.read().splitlines() if from_file == "-" else Path(from_file).read_text().splitlines()
        items += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    urls: list[str] = []
    for item in items:
        if not _has_glob(item):
            urls.append(_normalise(item))
        elif "://" not in item or item.startswith("file://"):
            pattern = item[len("file://"):] if item.startswith("file://") else item
            matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
            if not matches:
                raise InvalidArgumentError(f"the pattern {item!r} matches no file; check the path (quote it so "
                                           "the shell does not expand it first)")
            urls += [_normalise(m) for m in matches if os.path.isfile(m)]
        else:
            urls += _list_remote(item, args)
    return urls


def _list_remote(pattern: str, args: argparse.Namespace | None = None) -> list[str]:
    import fnmatch

    import obstore

    prefix = _prefix(pattern)
    key = pattern[len(prefix):].lstrip("/")
    literal = key[: min(key.find(c) for c in "*?[" if c in key)]
    listing_prefix = literal.rsplit("/", 1)[0] if "/" in literal else ""
    store = _store_for_prefix(prefix, _s3(args) if args is not None else None,
                              bool(getattr(args, "allow_http", False)))
    found = []
    for batch in obstore.list(store, prefix=listing_prefix or None):
        found += [m["path"] for m in batch if fnmatch.fnmatchcase(m["path"], key)]
    if not found:
        raise InvalidArgumentError(f"the pattern {pattern!r} matches no object; check the bucket, prefix and your "
                                   "credentials (AWS_* environment variables)")
    return [f"{prefix}/{p}" for p in sorted(found)]


# ---------------------------------------------------------------------------------------------- build


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        values = ()
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"expected minx,miny,maxx,maxy (four numbers), got {text!r}")
    return values  # type: ignore[return-value]


def _parse_bands(text: str) -> list[Any]:
    return [int(v) if v.strip().lstrip("-").isdigit() else v.strip() for v in text.split(",") if v.strip()]


def _output_kind(to: str) -> str:
    lower = to.lower()
    if lower.endswith(".json"):
        return "kerchunk-json"
    if lower.endswith((".parquet", ".parq")):
        return "kerchunk-parquet"
    if to.startswith("s3://"):
        return "icechunk-s3"
    if "://" in to and not to.startswith("file://"):
        raise InvalidArgumentError(f"--to {to}: Icechunk repositories go to a directory or s3://bucket/prefix")
    return "icechunk"


def _local_path(path: str) -> Path:
    return Path(path[len("file://"):] if path.startswith("file://") else path).expanduser().resolve()


class _Repo:
    """Where ``--to`` puts an Icechunk repository: a local directory or ``s3://bucket/prefix``."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.url = args.to
        self.s3 = args.to.startswith("s3://")
        self.path = None if self.s3 else _local_path(args.to)
        self.settings = _s3(args) if self.s3 else None
        self.label = args.to if self.s3 else str(self.path)

    def storage(self) -> Any:
        ic = _icechunk()
        if self.s3:
            return self.settings.icechunk_storage(self.url)
        return ic.local_filesystem_storage(str(self.path))

    def exists(self) -> bool:
        if not self.s3:
            return self.path.exists() and any(self.path.iterdir())
        return bool(_icechunk().Repository.exists(self.storage()))

    def check(self, append: bool) -> None:
        exists = self.exists()
        if exists and not append:
            raise InvalidArgumentError(f"--to {self.label} exists and is not empty; choose a new location, or use "
                                       "`virtual-geotiff append` (build --append) to add to the repository there")
        if append and not exists:
            raise InvalidArgumentError(f"--to {self.label} holds no Icechunk repository to append to; build first")

    def cleanup(self) -> None:
        """A repository created by a failed build is removed (nothing was committed into it; the location
        was checked to hold no repository before), so the next run can use the same ``--to``."""
        if not self.s3 and self.path is not None:
            import shutil

            shutil.rmtree(self.path, ignore_errors=True)
            return
        import obstore

        bucket, _, prefix = self.url[len("s3://"):].partition("/")
        store = self.settings.obstore_store(bucket)
        paths = [m["path"] for batch in obstore.list(store, prefix=prefix.strip("/") + "/") for m in batch]
        if paths:
            obstore.delete(store, paths)


def cmd_build(args: argparse.Namespace) -> int:
    if args.stac:
        return _build_stac(args)
    from ._progress import ByteCounter, CountingStore, ProgressBar, human_bytes, human_seconds, table
    from .cube import open_virtual_cube
    from .manifest import referenced_count

    started = time.perf_counter()
    kind = _output_kind(args.to)
    target = _Repo(args) if kind.startswith("icechunk") else None
    dest = target.label if target else _local_path(args.to)
    if target is not None:
        target.check(args.append)
    if target is None and args.append:
        raise InvalidArgumentError("--append works with Icechunk repositories only (a directory or s3:// for --to)")
    if target is None and dest.exists() and not args.overwrite:
        raise InvalidArgumentError(f"--to {dest} exists; pass --overwrite to replace it")
    if args.assets:
        raise InvalidArgumentError("--assets selects STAC assets: use it with --stac")
    urls = expand_inputs(args.urls, args.from_file, args)
    if not urls:
        raise InvalidArgumentError("no input files: give URLs, paths or glob patterns, --from-file LIST or --stac")

    counter = ByteCounter()
    s3 = _s3(args)
    registry = registry_for(urls, wrap=lambda store: CountingStore(store, counter), s3=s3, allow_http=args.allow_http)
    bar = None if args.no_progress else ProgressBar(len(urls), counter, label="reading headers:")
    cube = open_virtual_cube(
        urls, registry, stack_dim=args.stack_dim, stack_values=args.stack_pattern, stack_format=args.stack_format,
        stitch=not args.no_stitch, bands=args.bands, overview_level=args.overview_level, bbox=args.bbox,
        name=args.name, concurrency=args.concurrency, progress=bar, on_error=args.on_error,
    )
    built = time.perf_counter()
    ds = cube.dataset
    var = ds[args.name]
    rows = [("files", f"{len(cube.sources)} used, {len(cube.failed)} skipped, {len(urls)} given"),
            ("header reads", f"{counter.requests} requests, {human_bytes(counter.bytes)}"),
            ("source data", human_bytes(sum(s.size or 0 for s in cube.sources.values())) + " referenced, 0 copied"),
            ("variable", f"{args.name}{tuple(var.shape)} {var.dtype}, dims {var.dims}, "
                         f"chunks {var.data.metadata.chunks}"),
            ("chunks", f"{referenced_count(var.data.manifest)} referenced")]
    attrs = ds.attrs.get("virtual_geotiff", {})
    rows.append(("codecs", "portable" if attrs.get("portable", True) else
                 f"needs virtual-geotiff to read ({', '.join(attrs.get('custom_codecs', []))})"))

    if target is not None:
        created = not args.append
        try:
            plain = registry_for(urls, s3=s3, allow_http=args.allow_http)  # the real stores: container settings
            rows += _write_icechunk(args, cube, target, plain)
        except BaseException:
            if created:  # nothing was committed: leave no empty repository behind to trip the next run
                target.cleanup()
            raise
    else:
        rows += _write_kerchunk(args, cube, dest, kind)
    rows.append(("time", f"build {human_seconds(built - started)} ({built - started:.2f} s), "
                         f"write {time.perf_counter() - built:.2f} s"))
    print(table(rows, title=f"virtual-geotiff build -> {dest}"))
    return _report_skipped(cube.failed, "file")


def _report_skipped(failed: dict[str, str], what: str) -> int:
    if not failed:
        return EXIT_OK
    print(f"\nskipped {len(failed)} {what}(s):")
    for key, reason in list(failed.items())[:20]:
        print(f"  {key}: {reason}")
    if len(failed) > 20:
        print(f"  ... and {len(failed) - 20} more")
    return EXIT_PARTIAL


def _icechunk() -> Any:
    # Icechunk's tracing subscriber formats every virtual reference, which makes publishing several times
    # slower; the CLI skips it unless the user asked for Icechunk logs (read once, at icechunk's import).
    if "ICECHUNK_LOG" not in os.environ and "icechunk" not in sys.modules:
        os.environ.setdefault("ICECHUNK_NO_LOGS", "1")
    import icechunk as ic

    if "ICECHUNK_LOG" not in os.environ and "ICECHUNK_NO_LOGS" not in os.environ:
        ic.set_logs_filter("error")  # hide "LocalFileSystem is not safe for concurrent commits"
    return ic


def _write_icechunk(args: argparse.Namespace, cube: Any, target: _Repo, plain: Any) -> list[tuple[str, str]]:
    _icechunk()  # before virtual_geotiff.icechunk imports icechunk

    from . import icechunk as vic

    storage = target.storage()
    if args.append:
        repo = vic.open_repository(storage, registry=plain)
        result = vic.append(cube.dataset, repo, dim=args.stack_dim or "time", sources=cube.sources, registry=plain,
                            branch=args.branch, message=args.message, skipped=cube.failed, allow_skipped=True)
    else:
        repo = vic.create_repository(storage, cube.sources, registry=plain)
        result = vic.publish(cube.dataset, repo, sources=cube.sources, registry=plain, branch=args.branch,
                             message=args.message, skipped=cube.failed, allow_skipped=True,
                             time_dim=args.stack_dim or "time")
    return [("output", f"Icechunk repository {target.label} (branch {args.branch})"),
            ("references", f"{result.total_references} virtual references written"),
            ("snapshot", str(result.snapshot_id)),
            ("commit", result.message.splitlines()[0])]


def _build_stac(args: argparse.Namespace) -> int:
    """``build --stac``: STAC items -> band groups -> one Icechunk commit."""
    from ._progress import ByteCounter, CountingStore, ProgressBar, human_bytes, human_seconds, table
    from .bands import open_virtual_bands
    from .stac import stac_band_files

    started = time.perf_counter()
    kind = _output_kind(args.to)
    if not kind.startswith("icechunk"):
        raise InvalidArgumentError("--stac builds one group per CRS and resolution, which kerchunk references "
                                   "cannot hold; write an Icechunk repository (a directory or s3://bucket/prefix)")
    if args.urls or args.from_file:
        raise InvalidArgumentError("give either --stac or input files, not both")
    target = _Repo(args)
    target.check(args.append)
    catalog = _normalise(args.stac)
    grants = [catalog.rsplit("/", 1)[0] if catalog.startswith("file://") else _prefix(catalog), *(args.allow or [])]
    grants = [_normalise(g) if "://" not in g else g for g in grants]
    counter = ByteCounter()
    s3 = _s3(args)
    registry = registry_for([], wrap=lambda store: CountingStore(store, counter), s3=s3, allow_http=args.allow_http,
                            prefixes=grants)
    found = stac_band_files(catalog, registry, assets=args.assets, properties=args.properties,
                            time_resolution=args.time_resolution, concurrency=args.concurrency)
    urls = list(dict.fromkeys(f.url for f in found.files))
    bar = None if args.no_progress else ProgressBar(len(urls), counter, label="reading headers:")
    cube = open_virtual_bands(found.files, registry, single_crs=args.single_crs, on_error=args.on_error,
                              concurrency=args.concurrency, progress=bar, failed=found.failed)
    built = time.perf_counter()
    rows = [("items", f"{found.items - len(cube.failed)} used, {len(cube.failed)} skipped, {found.items} found"),
            ("files", f"{len(cube.sources)} referenced, {len(urls)} listed"),
            ("header reads", f"{counter.requests} requests, {human_bytes(counter.bytes)}"),
            ("source data", human_bytes(sum(s.size or 0 for s in cube.sources.values())) + " referenced, 0 copied")]
    for path, ds in cube.groups.items():
        sizes = ", ".join(f"{d} {n}" for d, n in ds.sizes.items())
        rows.append((f"group {path}", f"{' '.join(map(str, ds.data_vars))} ({sizes})"))

    created = not args.append
    try:
        rows += _publish_bands(args, cube, target, registry_for([], s3=s3, allow_http=args.allow_http,
                                                                 prefixes=grants), grants[0])
    except BaseException:
        if created:
            target.cleanup()
        raise
    rows.append(("time", f"build {human_seconds(built - started)} ({built - started:.2f} s), "
                         f"write {time.perf_counter() - built:.2f} s"))
    print(table(rows, title=f"virtual-geotiff build --stac -> {target.label}"))
    return _report_skipped(cube.failed, "item")


def _publish_bands(args: argparse.Namespace, cube: Any, target: _Repo, plain: Any, root: str,
                   ) -> list[tuple[str, str]]:
    _icechunk()

    from . import icechunk as vic
    from .icechunk import publish_bands

    storage = target.storage()
    if args.append:
        repo = vic.open_repository(storage, registry=plain)
    else:
        # containers at the catalog's root (not only the first items' folders), so later appends fit
        urls = [*cube.sources, root.rstrip("/") + "/catalog.json"] if root.startswith(("file://", "s3://")) \
            else list(cube.sources)
        repo = vic.create_repository(storage, urls, registry=plain)
    result = publish_bands(cube, repo, append=args.append, registry=plain, branch=args.branch, message=args.message,
                           allow_skipped=True)
    return [("output", f"Icechunk repository {target.label} (branch {args.branch})"),
            ("references", f"{result.references} virtual references written"),
            ("snapshot", str(result.snapshot_id)),
            ("commit", result.message.splitlines()[0])]


def _write_kerchunk(args: argparse.Namespace, cube: Any, dest: Path, kind: str) -> list[tuple[str, str]]:
    attrs = cube.dataset.attrs.get("virtual_geotiff", {})
    if attrs.get("custom_codecs"):
        raise UnsupportedTiffError(
            f"kerchunk references (Zarr v2) cannot carry the codecs these files need "
            f"({', '.join(attrs['custom_codecs'])}); write an Icechunk repository instead (--to a directory), "
            "or rewrite the files without them, e.g. gdal_translate -of COG -co COMPRESS=DEFLATE -co PREDICTOR=NO"
        )
    fmt = "json" if kind == "kerchunk-json" else "parquet"
    if fmt == "parquet":
        try:
            import kerchunk  # noqa: F401
        except ImportError:
            raise InvalidArgumentError("writing kerchunk parquet references needs the kerchunk package: "
                                       "pip install kerchunk (or write .json)") from None
    if dest.exists():
        import shutil

        shutil.rmtree(dest) if dest.is_dir() else dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        cube.to_kerchunk(dest, format=fmt)  # checks codecs; v2 fill_value/scalar keys fixed (kerchunk.py)
    except Exception as exc:
        raise UnsupportedTiffError(
            f"VirtualiZarr could not write kerchunk references ({type(exc).__name__}: {exc}); Zarr v2 lacks "
            "some Zarr v3 codecs (transpose for pixel-interleaved bands): write an Icechunk repository instead "
            "(--to a directory)"
        ) from exc
    return [("output", f"kerchunk {fmt} references {dest}")]


# ---------------------------------------------------------------------------------------------- verify


def _source_groups(repo: Any, branch: str, snapshot: str | None, table: str) -> list[str]:
    """Every group holding a table of published source files (the root for ``build``, one per CRS and
    resolution for ``build --stac``)."""
    import zarr

    session = repo.readonly_session(snapshot_id=snapshot) if snapshot else repo.readonly_session(branch=branch)
    try:
        root = zarr.open_group(session.store, mode="r", zarr_format=3)
    except FileNotFoundError:  # an empty repository: not even a root group
        return []
    found = [""] if table in root else []
    found += [name.rsplit("/", 1)[0] for name, node in root.members(max_depth=None)
              if name.endswith("/" + table) and isinstance(node, zarr.Group)]
    return found


def cmd_verify(args: argparse.Namespace) -> int:
    ic = _icechunk()  # before virtual_geotiff.icechunk imports icechunk

    from . import icechunk as vic

    args.to = args.repo
    target = _Repo(args)
    if not target.s3 and not (target.path is not None and target.path.is_dir()):
        raise FileNotFoundError(f"no Icechunk repository at {target.label}")
    storage = target.storage()
    config = ic.Repository.fetch_config(storage)
    prefixes = list((config.virtual_chunk_containers or {}).keys()) if config is not None else []
    registry = registry_for(prefixes, s3=_s3(args), allow_http=bool(args.allow_http))
    repo = vic.open_repository(storage, registry=registry)
    groups = [args.group.strip("/")] if args.group else _source_groups(repo, args.branch, args.snapshot,
                                                                         vic.SOURCES_GROUP)
    if not groups:
        where_ = f"snapshot {args.snapshot}" if args.snapshot else f"branch {args.branch!r}"
        raise FileNotFoundError(f"{target.label} ({where_}) holds no cube published by virtual-geotiff: no "
                                f"{vic.SOURCES_GROUP} table of source files to check")
    reports = {g: vic.verify(repo, registry=registry, branch=args.branch, snapshot_id=args.snapshot, group=g or None,
                             concurrency=args.concurrency) for g in groups}
    report = vic.DriftReport(sum(r.checked for r in reports.values()),
                             [d for r in reports.values() for d in r.drifted],
                             sum(r.seconds for r in reports.values()))
    if args.json:
        json.dump({"repository": target.label, "checked": report.checked, "ok": report.ok,
                   "seconds": round(report.seconds, 3), "groups": [g or "/" for g in groups],
                   "drifted": [{"url": d.url, "reason": d.reason} for d in report.drifted]}, sys.stdout, indent=2)
        print()
    else:
        shown = "" if groups == [""] else f" ({len(groups)} group(s): {', '.join(groups)})"
        print(f"{target.label}{shown}: {report}")
        if not report.ok:
            print("reads of chunks in these files now fail in Icechunk; rebuild the cube from the current files "
                  "(virtual-geotiff build ... --to NEW_DIR) or restore the originals")
    return EXIT_OK if report.ok else EXIT_DRIFT


# ---------------------------------------------------------------------------------------------- main


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="virtual-geotiff", description=__doc__.splitlines()[0],
        epilog="exit codes: 0 ok, 1 cannot map/combine the files, 2 usage, 3 cannot read, 4 drift found (verify), "
               "5 built with skipped files, 70 internal error",
    )
    parser.add_argument("--version", action="version", version=f"virtual-geotiff {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    inspect = sub.add_parser("inspect", help="show IFDs, layout and the Zarr codec chain of a TIFF")
    inspect.add_argument("url", help="a local path or a file:// / s3:// / https:// URL")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    _add_storage_args(inspect)

    build = sub.add_parser("build", help="build one virtual cube from many GeoTIFFs or a STAC catalog",
                           description="Build one virtual cube from many GeoTIFFs on one grid, or from STAC items "
                                       "(one group of band variables per CRS and resolution), and write it to an "
                                       "Icechunk repository (a directory or s3://bucket/prefix) or kerchunk "
                                       "references (.json/.parquet).")
    _add_build_args(build)
    append = sub.add_parser("append", help="add new files or STAC items to a published cube (build --append)",
                            description="Add new time steps (files or STAC items) to the Icechunk repository at "
                                        "--to, in one commit; groups new to the repository (a new CRS) are "
                                        "published beside the others.")
    _add_build_args(append)
    append.set_defaults(append=True)

    verify = sub.add_parser("verify", help="check that the source files of a published cube are unchanged",
                            description="HEAD every source file of an Icechunk repository written by build and "
                                        "report those changed since (exit code 4 when any did).")
    verify.add_argument("repo", metavar="REPO", help="the Icechunk repository: a directory or s3://bucket/prefix")
    verify.add_argument("--branch", default="main", help="branch to check (default main)")
    verify.add_argument("--snapshot", help="check this snapshot id instead of the branch tip")
    verify.add_argument("--concurrency", type=int, default=64, help="HEAD requests in flight (default 64)")
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.add_argument("--group", help="check this group only (default: every group with published sources)")
    _add_storage_args(verify)
    return parser


def _add_storage_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint-url", metavar="URL", help="S3-compatible endpoint (default: AWS_ENDPOINT_URL)")
    p.add_argument("--region", help="S3 region (default: AWS_REGION / AWS_DEFAULT_REGION)")
    p.add_argument("--allow-http", action="store_true", default=None,
                   help="allow plain http:// endpoints and URLs (default: AWS_ALLOW_HTTP)")


def _add_build_args(build: argparse.ArgumentParser) -> None:
    build.add_argument("urls", nargs="*", metavar="URL", help="paths, URLs or quoted glob patterns ('data/*.tif', "
                                                             "'s3://bucket/scenes/*.tif')")
    build.add_argument("--to", required=True, metavar="PATH",
                       help="output: a directory or s3://bucket/prefix (Icechunk repository), or FILE.json / "
                            "FILE.parquet (kerchunk)")
    build.add_argument("--from-file", metavar="LIST", help="read more URLs from LIST, one per line ('-': stdin)")
    build.add_argument("--stac", metavar="PATH|URL", help="build from the STAC items of a static catalog, collection "
                                                          "or JSON file of items (local, s3:// or https://)")
    build.add_argument("--assets", type=lambda t: [v.strip() for v in t.split(",") if v.strip()], metavar="LIST",
                       help="STAC asset keys to take as bands, e.g. B02,B03,SCL (default: every GeoTIFF asset)")
    build.add_argument("--properties", type=lambda t: [v.strip() for v in t.split(",") if v.strip()],
                       default=["eo:cloud_cover", "platform"], metavar="LIST",
                       help="STAC item properties kept as coordinates along time (default eo:cloud_cover,platform)")
    build.add_argument("--time-resolution", metavar="UNIT",
                       help="with --stac: truncate item times to UNIT (D = one time step per day) so tiles of one "
                            "pass share a step")
    build.add_argument("--single-crs", action="store_true",
                       help="with --stac: fail, listing every item and its CRS, if the items lie in several CRSs")
    build.add_argument("--allow", action="append", metavar="PREFIX",
                       help="with --stac: also read asset hrefs under PREFIX (a directory, s3://bucket/prefix or "
                            "https://host); the catalog's own directory or bucket is always allowed")
    build.add_argument("--stack-dim", metavar="DIM", help="stack files along a new dimension DIM (default 'time' "
                                                          "when --stack-pattern is given)")
    build.add_argument("--stack-pattern", metavar="REGEX",
                       help="stack coordinate from each file name: a regex; group 'value' or group 1 is used")
    build.add_argument("--stack-format", metavar="FMT", help="parse the stack values with strptime, e.g. %%Y%%m%%d")
    build.add_argument("--no-stitch", action="store_true",
                       help="one file per stack position, all on the same footprint (no mosaicking)")
    build.add_argument("--bands", type=_parse_bands, metavar="LIST", help="bands to keep: 1,3 (1-based) or, with "
                                                                          "--stack-dim band, the names")
    build.add_argument("--bbox", type=_parse_bbox, metavar="MINX,MINY,MAXX,MAXY",
                       help="keep this box (CRS units), widened to whole chunks")
    build.add_argument("--overview-level", type=int, metavar="K", help="use overview K (0 = first overview, as "
                                                                       "rasterio's overview_level)")
    build.add_argument("--name", default="data", help="name of the data variable (default: data)")
    build.add_argument("--concurrency", type=int, default=128, help="header reads in flight (default 128)")
    build.add_argument("--on-error", choices=("raise", "skip"), default="raise",
                       help="raise: stop and list unreadable files/items (default); skip: build from the others, "
                            "exit 5")
    build.add_argument("--append", action="store_true", help="append along the stack dimension to the existing "
                                                             "Icechunk repository at --to")
    build.add_argument("--branch", default="main", help="Icechunk branch (default main)")
    build.add_argument("--message", help="Icechunk commit message (default: a summary of what was added)")
    build.add_argument("--overwrite", action="store_true", help="replace an existing kerchunk output file")
    build.add_argument("--no-progress", action="store_true", help="no progress output on stderr")
    _add_storage_args(build)


def cmd_inspect(args: argparse.Namespace) -> int:
    info = describe(args.url, args=args)
    if args.json:
        json.dump(info, sys.stdout, indent=2)
        print()
    else:
        _print_human(info)
    if info["ifds"] and all("error" in d for d in info["ifds"]):
        return EXIT_UNMAPPABLE  # readable, but nothing in it can be virtualised
    return EXIT_OK


_COMMANDS = {"inspect": cmd_inspect, "build": cmd_build, "append": cmd_build, "verify": cmd_verify}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _quiet_warnings()
    try:
        return _COMMANDS[args.command](args)
    except (FailedSourcesError, IncompatibleSourcesError) as exc:
        return _fail(args, exc, EXIT_UNMAPPABLE, "nothing was written; fix or remove the files listed, or pass "
                                                 "--on-error skip to build from the readable ones")
    except (TiffFormatError, UnsupportedTiffError) as exc:
        return _fail(args, exc, EXIT_UNMAPPABLE, "if GDAL opens the file (`gdalinfo FILE`), a rewrite usually "
                                                 "fixes it: gdal_translate -of COG FILE fixed.tif")
    except BrokenPipeError:
        return _stdout_closed()
    except InvalidArgumentError as exc:
        return _fail(args, exc, EXIT_USAGE if args.command in ("build", "append") else EXIT_UNREADABLE,
                     "see `virtual-geotiff " + args.command + " --help`")
    except (FileNotFoundError, OSError) as exc:
        return _fail(args, exc, EXIT_UNREADABLE, "check the path or URL and your credentials")
    except VirtualGeoTiffError as exc:
        return _fail(args, exc, EXIT_UNMAPPABLE, "nothing was committed")
    except KeyboardInterrupt:
        print("interrupted; nothing was committed", file=sys.stderr)
        return 130
    except Exception as exc:  # pragma: no cover - reported, not hidden
        return _fail(args, exc, EXIT_INTERNAL, "rerun with --debug and report the traceback")


def _quiet_warnings() -> None:
    """Hide warnings that say nothing about the user's files (numcodecs codec names, consolidated metadata) and
    print the others as one ``warning:`` line each, without the source line of the library that raised them."""
    warnings.filterwarnings("ignore", message="Numcodecs codecs are not in the Zarr version 3 specification")
    warnings.filterwarnings("ignore", message=".*Consolidated metadata.*")

    def show(message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        print(f"warning: {message} ({category.__name__})", file=sys.stderr)

    warnings.showwarning = show


def _stdout_closed() -> int:
    """The reader of our output left (``| head``): stop quietly, as command-line tools do. Python would
    report the pipe again when it flushes stdout at exit, so stdout is pointed at /dev/null first."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_OK


def _fail(args: argparse.Namespace, exc: BaseException, code: int, hint: str) -> int:
    if args.debug:
        raise exc
    print(f"error: {exc}\nhint: {hint}", file=sys.stderr)
    return code


def run() -> None:  # pragma: no cover - the console entry point
    """Run :func:`main` and leave without interpreter finalisation.

    obstore (and icechunk) keep tokio worker threads that drop Python objects shortly after ``asyncio.run``
    returns; if the interpreter is finalising at that moment CPython aborts ("PyGILState_Release: thread
    state must be current", exit 134) in roughly one short run in three. The command's work is done and its
    output flushed by then, so skipping finalisation loses nothing.
    """
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _stdout_closed()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
