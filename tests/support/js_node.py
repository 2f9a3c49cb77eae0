"""Running the JavaScript reader (js/e2e/read.mjs: zarrita + @virtual-geotiff/zarr-codecs) from tests.

The Node projects are installed from the npm registry with their lock files (``npm ci``) the first time a test
needs them; tests skip when ``node`` or ``npm`` is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.support.paths import REPO as ROOT

JS = ROOT / "js"
E2E = JS / "e2e"


def require_node() -> None:
    """Skip without Node/npm; install js/ and js/e2e (``npm ci``) when their node_modules are missing."""
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("node and npm are not installed (the JavaScript reader needs Node >= 20)")
    for project in (JS, E2E):
        if not (project / "node_modules").is_dir():
            result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=project, capture_output=True,
                                    text=True, timeout=600, stdin=subprocess.DEVNULL)
            assert result.returncode == 0, f"npm ci in {project} failed:\n{result.stdout}\n{result.stderr}"


def read_with_node(request: dict, arrays: dict[str, tuple | None], tmp: Path) -> dict[str, np.ndarray]:
    """Read ``arrays`` ({zarr path: zarrita selection or None}) of the store described by ``request`` in Node.

    Returns each selection as a numpy array (dtype and shape as zarrita reports them).
    """
    outs = {path: tmp / f"node_{i}.bin" for i, path in enumerate(arrays)}
    request = {**request, "arrays": [{"path": path, "out": str(outs[path]),
                                      **({"selection": list(sel)} if sel is not None else {})}
                                     for path, sel in arrays.items()]}
    request_file = tmp / "node_request.json"
    request_file.write_text(json.dumps(request))
    result = subprocess.run(["node", "--no-warnings", str(E2E / "read.mjs"), str(request_file)],
                            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise NodeReadError(result.stderr.strip()[-4000:])
    described = json.loads(result.stdout.strip().splitlines()[-1])
    return {path: np.fromfile(outs[path], dtype=np.dtype(described[path]["dtype"]).newbyteorder("<"))
            .reshape(described[path]["shape"]) for path in arrays}


class NodeReadError(RuntimeError):
    """The Node reader exited with an error (its stderr is the message)."""


#: The grid both end-to-end modules write their GeoTIFFs on (EPSG:32633, 10 m).
X0, Y0, RES = 500_000.0, 5_000_000.0, 10.0


def write_geotiff(path: Path, data: np.ndarray, *, col: int = 0, row: int = 0, **profile) -> None:
    """A GeoTIFF of ``data`` (band, y, x) at grid position (row, col) of same-sized files."""
    import rasterio
    from rasterio.transform import from_origin

    bands, height, width = data.shape
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=bands, dtype=data.dtype,
                       crs="EPSG:32633", transform=from_origin(X0 + col * width * RES, Y0 - row * height * RES,
                                                               RES, RES), **profile) as dst:
        dst.write(data)


def ramp(shape: tuple[int, ...], dtype: str, seed: int) -> np.ndarray:
    """Test samples covering the dtype's range (a noisy ramp for floats)."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return (np.linspace(-50, 3000, int(np.prod(shape))).reshape(shape) + rng.normal(0, 1, shape)).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, int(info.max) + 1, shape, dtype=dtype)
