"""The package's layers import only downward and no modules import each other in a circle, counting imports
made inside functions: the architecture docs/how-it-works.md describes ("The module map"), held against the
code on every run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Layer of each top-level module or package of ``virtual_geotiff``, bottom (0) to top. A module may import
#: modules of its own layer or below; docs/how-it-works.md explains each layer.
LAYERS: dict[str, int] = {
    # 0 foundation: no knowledge of TIFF or Zarr layouts
    "errors": 0, "limits": 0, "_sync": 0, "_version": 0, "sources": 0, "urls": 0, "s3settings": 0,
    "_progress": 0, "_upstream": 0,
    # 1 reading TIFF files
    "tiff": 1,
    # 2 one aspect of the mapping each
    "geo": 2, "layout": 2, "codecs": 2, "colour": 2, "readers": 2,
    # 3 VirtualiZarr/zarr adapters and read-time machinery
    "manifest": 3, "store": 3, "fastread": 3,
    # 4 the per-IFD step and placing many files' chunks
    "arrays": 4, "stitch": 4,
    # 5 entry points
    "parser": 5, "multiscale": 5, "vrt": 5, "cube": 5, "bands": 5, "stac": 5, "kerchunk": 5, "masks": 5,
    # 6 publishing
    "icechunk": 6,
    # 7 the outside: command line, test support, the package's public face
    "cli": 7, "testing": 7, "": 7,
}


def _graph():
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    assert top in LAYERS, f"{module} has no layer: add its top-level name to LAYERS (and to docs/how-it-works.md)"
    return LAYERS[top]


def test_no_import_cycles():
    graph = _graph()
    cycles = graph.cycles(graph.graph())
    assert not cycles, f"modules importing each other in a circle (run scripts/import_graph.py): {cycles}"


def test_layers_import_only_downward():
    graph = _graph()
    upward = [f"{a}:{line} imports {b}" for a, targets in graph.graph().items() for b, line in targets.items()
              if _layer(b) > _layer(a)]
    assert not upward, "imports that run up the layers:\n" + "\n".join(upward)


def test_the_checker_sees_imports_inside_functions():
    """A check that can fail: ``cli`` imports the cube builder only inside ``cmd_build``; a graph that missed
    function-level imports would miss the cycles hiding there."""
    edges = _graph().graph()
    assert "virtual_geotiff.cube" in edges["virtual_geotiff.cli"]
