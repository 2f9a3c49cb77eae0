"""Dump what ``VirtualTIFF`` builds for every corpus file, to show that a refactor changed no output.

For each file and each layout (flat, nested, multiscale, ``overview_level=0``) the dump holds every array's
Zarr metadata, a digest of its manifest (paths, offsets, lengths) and the group attributes, or the error type
and message. Run it on two checkouts and compare:

    PYTHONPATH=../old/src python scripts/output_snapshot.py dump before.json
    python scripts/output_snapshot.py dump after.json
    python scripts/output_snapshot.py compare before.json after.json   # exit 1 on any difference

Computed coordinates live under a random ``memory://`` prefix; it is replaced by a constant before hashing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
_MEMORY = re.compile(r"memory://virtual-geotiff/[0-9a-f]+")


def _references(manifest: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        from virtual_geotiff.manifest import references
    except ImportError:  # a checkout older than manifest.references: ChunkManifest's arrays directly
        return manifest._paths, manifest._offsets, manifest._lengths
    refs = references(manifest)
    return refs.paths, refs.offsets, refs.lengths


def _root_group(store: Any) -> Any:
    try:
        from virtual_geotiff._upstream import manifest_group
    except ImportError:  # a checkout older than _upstream
        return store._group
    return manifest_group(store)


def _digest(group: Any, out: dict[str, Any], prefix: str = "") -> None:
    for name, arr in sorted(group.arrays.items()):
        paths, offsets, lengths = _references(arr.manifest)
        h = hashlib.sha1(str(paths.shape).encode())
        h.update(_MEMORY.sub("M", "\n".join(np.asarray(paths).ravel().tolist())).encode())
        h.update(np.ascontiguousarray(offsets, np.uint64).tobytes())
        h.update(np.ascontiguousarray(lengths, np.uint64).tobytes())
        out[prefix + name] = {"meta": json.loads(json.dumps(arr.metadata.to_dict(), default=str)),
                              "refs": h.hexdigest()}
    out[prefix + "@attrs"] = json.loads(json.dumps(dict(group.attributes), default=str))
    for name, child in sorted(group.groups.items()):
        _digest(child, out, prefix + name + "/")


def dump(corpus: Path) -> dict[str, Any]:
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore

    from virtual_geotiff import VirtualTIFF

    warnings.simplefilter("ignore")
    registry = ObjectStoreRegistry({"file://": LocalStore()})
    parsers = {"flat": VirtualTIFF(), "nested": VirtualTIFF(ifd_layout="nested"),
               "multiscale": VirtualTIFF(ifd_layout="multiscale"), "ov0": VirtualTIFF(overview_level=0)}
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix != ".md")
    result: dict[str, Any] = {}
    for path in files:
        for label, parser in parsers.items():
            key = f"{path.relative_to(corpus)}|{label}"
            try:
                out: dict[str, Any] = {}
                _digest(_root_group(parser(str(path), registry)), out)
                result[key] = out
            except Exception as exc:
                result[key] = {"error": type(exc).__name__, "message": str(exc)}
    return json.loads(_MEMORY.sub("memory://M", json.dumps(result, sort_keys=True, default=str)))


def compare(a: dict[str, Any], b: dict[str, Any], show: int = 8) -> int:
    differ = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    for key in differ[:show]:
        print("differs:", key)
        x, y = a.get(key) or {}, b.get(key) or {}
        for item in sorted(set(x) | set(y)):
            if x.get(item) != y.get(item):
                print(f"    {item}\n      before: {json.dumps(x.get(item))[:400]}\n      after:  "
                      f"{json.dumps(y.get(item))[:400]}")
    print(f"{len(a)} and {len(b)} entries, {len(differ)} differ")
    return 1 if differ else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out")
    d.add_argument("--corpus", default=str(CORPUS))
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    args = parser.parse_args()
    if args.command == "dump":
        result = dump(Path(args.corpus))
        Path(args.out).write_text(json.dumps(result, sort_keys=True))
        print(f"{len(result)} entries written to {args.out}")
        return 0
    return compare(json.loads(Path(args.before).read_text()), json.loads(Path(args.after).read_text()))


if __name__ == "__main__":
    sys.exit(main())
