"""Valid old TIFFs that strict readers stumble on (async-tiff 0.7.2 panics on each): read equal to tifffile.

Each case writes a small TIFF with tifffile, then edits one IFD entry in place (the table keeps its
size): dropping SamplesPerPixel / BitsPerSample / PhotometricInterpretation (TIFF defaults apply),
setting a photometric async-tiff does not know, giving an entry an unknown field type, or writing a
Make string that is not UTF-8.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from tests.support.helpers import read_array
from tests.support.paths import CORPUS
from tests.support.tiff_edit import edit_entry, ifd_entries
from virtual_geotiff import TiffFormatError, VirtualTIFF
from virtual_geotiff.tiff.tags import Photometric

pytestmark = pytest.mark.timeout(60)

_PRIVATE_TAG = 65000  # an unknown tag: async-tiff and tifffile both keep it and ignore it


def write(path: Path, data: np.ndarray, **kwargs) -> Path:
    tifffile.imwrite(path, data, **kwargs)
    return path


def expected(path: Path, page: int = 0) -> np.ndarray:
    with tifffile.TiffFile(path) as tif:
        return tif.pages[page].asarray()


GREY = (np.arange(37 * 53, dtype=np.uint32).reshape(37, 53) * 2654435761 % 65536).astype(np.uint16)


@pytest.mark.parametrize("tag", [277, 258, 262], ids=["no-SamplesPerPixel", "no-BitsPerSample", "no-Photometric"])
def test_missing_defaulted_tags(tmp_path, registry, tag):
    # BitsPerSample defaults to 1: tifffile already leaves it out of 1-bit files.
    data = (GREY % 2).astype(bool) if tag == 258 else GREY
    path = write(tmp_path / "a.tif", data, photometric="minisblack", rowsperstrip=8)
    if tag in {t for _, t in ifd_entries(path)[1]}:
        edit_entry(path, tag, new_tag=_PRIVATE_TAG)
    assert tag not in {t for _, t in ifd_entries(path)[1]}
    ours = read_array(path, registry)
    np.testing.assert_array_equal(ours, expected(path).astype(ours.dtype))


def test_multipage_without_samples_per_pixel(tmp_path, registry):
    """Every IFD of the chain without SamplesPerPixel: TIFF's default 1, values as tifffile gives them."""
    path = tmp_path / "multi.tif"
    with tifffile.TiffWriter(path) as tif:
        for k in range(3):
            tif.write(GREY[: 20 + k] + k, photometric="minisblack", rowsperstrip=8)
    raw = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        positions = [tag.offset for page in tif.pages for tag in page.tags.values() if tag.code == 277]
    for p in positions:
        raw[p:p + 2] = struct.pack("<H", _PRIVATE_TAG)
    path.write_bytes(bytes(raw))
    store = VirtualTIFF()(url=f"file://{path}", registry=registry)
    group = zarr.open_group(store, mode="r", zarr_format=3)
    for k in range(3):
        np.testing.assert_array_equal(group[str(k)][...], expected(path, k))


@pytest.mark.parametrize("value", [Photometric.LOGL, Photometric.ICCLAB, 12345])
def test_photometric_of_unknown_value(tmp_path, registry, value):
    path = write(tmp_path / "p.tif", GREY, photometric="minisblack", rowsperstrip=8)
    edit_entry(path, 262, new_value=struct.pack("<H", value))
    store = VirtualTIFF()(url=f"file://{path}", registry=registry)
    array = zarr.open_group(store, mode="r", zarr_format=3)["0"]
    np.testing.assert_array_equal(array[...], GREY)  # stored samples, as tifffile reads them
    assert array.attrs["photometric"] == (Photometric(value).name.lower() if value in Photometric._value2member_map_
                                          else str(value))


def test_entry_of_unknown_field_type(tmp_path, registry):
    path = write(tmp_path / "t.tif", GREY, photometric="minisblack", rowsperstrip=8,
                 extratags=[(_PRIVATE_TAG, "H", 1, 7, True)])
    edit_entry(path, _PRIVATE_TAG, new_type=14)
    np.testing.assert_array_equal(read_array(path, registry), expected(path))


def test_make_string_that_is_not_utf8(tmp_path, registry):
    path = write(tmp_path / "m.tif", GREY, photometric="minisblack", rowsperstrip=8,
                 extratags=[(271, "s", 2, "M", True)])
    edit_entry(path, 271, new_value=b"\x8c\x00")
    np.testing.assert_array_equal(read_array(path, registry), expected(path))


def test_no_image_width_is_a_format_error(tmp_path, registry):
    path = write(tmp_path / "w.tif", GREY, photometric="minisblack")
    edit_entry(path, 256, new_tag=_PRIVATE_TAG)
    with pytest.raises(TiffFormatError, match="ImageWidth"):
        read_array(path, registry)


PILLOW = CORPUS / "pillow"  # ../shared/corpus/pillow beside the checkout


@pytest.mark.skipif(not PILLOW.is_dir(), reason="shared corpus absent")
@pytest.mark.parametrize("name", ["Tests__images__8bit.s.tif", "Tests__images__multipage-mmap.tiff",
                                  "Tests__images__no_rows_per_strip.tif", "Tests__images__10ct_32bit_128.tiff"])
def test_corpus_files_strict_readers_refuse(registry, name):
    path = PILLOW / name
    store = VirtualTIFF()(url=f"file://{path}", registry=registry)
    group = zarr.open_group(store, mode="r", zarr_format=3)
    with tifffile.TiffFile(path) as tif:
        for i, page in enumerate(tif.pages):
            np.testing.assert_array_equal(group[str(i)][...], page.asarray())
