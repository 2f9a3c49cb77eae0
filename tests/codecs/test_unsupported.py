"""Features still unsupported raise UnsupportedTiffError at build time naming the feature, the IFD and the
fix (a gdal_translate command), and never a wrong array.

Files are written uncompressed by tifffile, then the Compression / Photometric tag is set to the
feature under test: the refusal happens from the tags alone, before any pixel is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from tests.support.tiff_edit import edit_entry
from virtual_geotiff import UnsupportedTiffError, VirtualTIFF
from virtual_geotiff.tiff.tags import Compression

pytestmark = pytest.mark.timeout(60)


def _tiff(path: Path, photometric: str = "minisblack", samples: int = 1) -> Path:
    shape = (16, 16, samples) if samples > 1 else (16, 16)
    tifffile.imwrite(path, np.zeros(shape, np.uint8), photometric=photometric)
    return path


# CCITT, old-style JPEG and SGILOG decode through libtiff now (tests/codecs/test_gdal_codecs.py).
@pytest.mark.parametrize("compression, feature", [
    (Compression.JPEGXR, "JPEGXR"), (Compression.JBIG_BW, "JBIG_BW"), (Compression.THUNDERSCAN, "THUNDERSCAN"),
    (60000, "60000"),
])
def test_unsupported_compression_named(tmp_path, registry, compression, feature):
    path = _tiff(tmp_path / "c.tif")
    edit_entry(path, 259, new_value=int(compression).to_bytes(2, "little"))
    with pytest.raises(UnsupportedTiffError, match=rf"(?s)(?=.*{feature})(?=.*IFD 0 of file://)(?=.*gdal_translate)"):
        VirtualTIFF()(url=f"file://{path}", registry=registry)
