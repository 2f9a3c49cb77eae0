"""The ``virtual-geotiff`` command: ``inspect`` shows how a TIFF maps to Zarr, for people and scripts.

Exit codes: 0 success, 1 the file cannot be mapped (TIFF format or unsupported feature), 2 bad usage,
3 the file cannot be read (missing, no store registered, network), 70 internal error (with --debug).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from . import __version__
from .errors import InvalidArgumentError, TiffFormatError, UnsupportedTiffError, VirtualGeoTiffError
from .limits import Limits

EXIT_OK, EXIT_UNMAPPABLE, EXIT_USAGE, EXIT_UNREADABLE, EXIT_INTERNAL = 0, 1, 2, 3, 70


def _registry_for(url: str):
    import obstore
    from obspec_utils.registry import ObjectStoreRegistry

    if url.startswith("file://"):
        return ObjectStoreRegistry({"file://": obstore.store.LocalStore()})
    prefix = "/".join(url.split("/", 3)[:3])
    return ObjectStoreRegistry({prefix: obstore.store.from_url(prefix)})


def _normalise(url: str) -> str:
    return url if "://" in url else "file://" + str(Path(url).resolve())


def describe(url: str, limits: Limits | None = None) -> dict[str, Any]:
    """Everything ``inspect`` reports, as JSON-ready data (one entry per IFD)."""
    from ._sync import run_sync
    from .parser import plan_ifd, read_header

    limits = limits or Limits()
    url = _normalise(url)
    header = run_sync(read_header(url, _registry_for(url), limits))
    ifds = []
    for ifd in header.ifds:
        entry: dict[str, Any] = {
            "ifd": ifd.index,
            "width": ifd.width,
            "height": ifd.height,
            "samples_per_pixel": ifd.samples_per_pixel,
            "bits_per_sample": ifd.bits_per_sample,
            "compression": ifd.compression,
            "predictor": ifd.predictor,
            "photometric": ifd.photometric,
            "planar": ifd.planar,
            "layout": "tiles" if ifd.is_tiled else "strips",
            "block": [ifd.tile_height or ifd.rows_per_strip, ifd.tile_width or ifd.width],
            "subfile_type": ifd.subfile_type,
            "georeferenced": ifd.geo.is_georeferenced,
        }
        try:
            layout, plan = plan_ifd(ifd, header, limits)
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
              f"compression {d['compression']}, predictor {d['predictor']}")
        if "error" in d:
            print(f"    cannot be mapped: {d['error']}")
            continue
        portable = "yes" if d["portable"] else f"no (needs virtual-geotiff for {', '.join(d['custom_codecs'])})"
        print(f"    zarr: {d['dtype']} {d['shape']} chunks {d['chunks']}, codecs {' -> '.join(d['codecs'])}")
        print(f"    readable by zarrs / zarrita.js: {portable}; missing chunks: {d['missing_chunks']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="virtual-geotiff", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"virtual-geotiff {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    inspect = sub.add_parser("inspect", help="show IFDs, layout and the Zarr codec chain of a TIFF")
    inspect.add_argument("url", help="a local path or a file:// / s3:// / https:// URL")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    try:
        info = describe(args.url)
    except (TiffFormatError, UnsupportedTiffError) as exc:
        return _fail(args, exc, EXIT_UNMAPPABLE, "check the file with `gdalinfo` or `tifffile`")
    except (FileNotFoundError, InvalidArgumentError, OSError) as exc:
        return _fail(args, exc, EXIT_UNREADABLE, "check the path or URL and your credentials")
    except Exception as exc:  # pragma: no cover - reported, not hidden
        return _fail(args, exc, EXIT_INTERNAL, "rerun with --debug and report the traceback")
    if args.json:
        json.dump(info, sys.stdout, indent=2)
        print()
    else:
        _print_human(info)
    return EXIT_OK


def _fail(args: argparse.Namespace, exc: BaseException, code: int, hint: str) -> int:
    if args.debug:
        raise exc
    print(f"error: {exc}\nhint: {hint}", file=sys.stderr)
    return code


def run() -> None:  # pragma: no cover - the console entry point
    """Run :func:`main` and leave without interpreter finalisation.

    obstore/async-tiff keep tokio worker threads that drop Python objects shortly after ``asyncio.run``
    returns; if the interpreter is finalising at that moment CPython aborts ("PyGILState_Release: thread
    state must be current", exit 134) in roughly one short run in three. The command's work is done and its
    output flushed by then, so skipping finalisation loses nothing.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
