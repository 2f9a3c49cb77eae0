"""Hostile TIFFs: property-based mutation fuzzing against tifffile, and one named test per kind of damage.

Every case ends in a typed error (``virtual_geotiff.errors``) or in arrays equal to tifffile's decode of
the same bytes (GDAL breaks ties where tifffile is wrong); see ``virtual_geotiff.testing.fuzz`` for the
outcome definitions. The long campaign is ``scripts/fuzz.py``; these tests keep a fast, fixed sample.
"""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import obstore
import pytest
import tifffile
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import MemoryStore

from virtual_geotiff import Limits, TiffFormatError, UnsupportedTiffError, VirtualTIFF
from virtual_geotiff.errors import LimitExceededError
from virtual_geotiff.testing import fuzz

pytestmark = pytest.mark.timeout(120)

SEEDS = {s.name: s for s in fuzz.seeds()}
STRIPS, TILES_ZLIB, LZW_PRED3 = SEEDS["u8-strips"], SEEDS["u16-tiles-zlib-be"], SEEDS["f32-strips-lzw-pred3"]
TWO_PAGES, SEPARATE_ZSTD = SEEDS["two-pages"], SEEDS["rgb-separate-strips-zstd"]
IMAGE_WIDTH, IMAGE_LENGTH, COMPRESSION, STRIP_OFFSETS, STRIP_BYTE_COUNTS = 256, 257, 259, 273, 279
PLANAR, PREDICTOR, TILE_OFFSETS, TILE_BYTE_COUNTS = 284, 317, 324, 325


def build(data: bytes, limits: Limits | None = None) -> list[np.ndarray]:
    """Every IFD's array decoded through VirtualTIFF from an in-memory object."""
    store = MemoryStore()
    obstore.put(store, "f.tif", data)
    registry = ObjectStoreRegistry({"memory://t": store})
    manifest = VirtualTIFF(ifd_layout="nested", limits=limits)(url="memory://t/f.tif", registry=registry)
    group = zarr.open_group(manifest, mode="r", zarr_format=3)
    return [np.asarray(group[k][k][...]) for k in sorted(group.group_keys(), key=int)]


def assert_ok(data: bytes, seed: fuzz.Seed | None = None) -> fuzz.Result:
    result = fuzz.check(data, seed)
    assert result.outcome not in fuzz.BAD_OUTCOMES, result
    return result


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seeds_decode_equal_to_tifffile(name):
    assert fuzz.check(SEEDS[name].data, SEEDS[name]).outcome == "ok-equal"


# -- property-based: random structure-aware mutations never give a bad outcome -------------------------------
@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(index=st.integers(0, 2**32), mutation=st.sampled_from(sorted(fuzz.MUTATIONS)))
def test_single_mutations(index, mutation):
    case = fuzz.make_case(7, index, mutation=mutation)
    result = fuzz.check(case.data, case.seed)
    assert result.outcome not in fuzz.BAD_OUTCOMES, (case.description, result)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(index=st.integers(0, 2**32))
def test_stacked_mutations(index):
    case = fuzz.make_case(11, index)
    result = fuzz.check(case.data, case.seed)
    assert result.outcome not in fuzz.BAD_OUTCOMES, (case.description, result)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(seed=st.sampled_from(sorted(SEEDS)), cut=st.floats(0, 1, exclude_max=True))
def test_truncation_anywhere(seed, cut):
    data = SEEDS[seed].data
    result = assert_ok(data[: int(len(data) * cut)], SEEDS[seed])
    assert result.outcome in ("typed-error", "ok-equal", "ok-gdal")


# -- named hostile cases ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", [0, 1])
def test_ifd_loop_is_cut_like_tifffile(target):
    data = fuzz.set_next_ifd(TWO_PAGES.data, 1, TWO_PAGES.map.ifds[target].offset)
    with pytest.warns(UserWarning, match="loops back"):
        arrays = build(data)
    assert len(arrays) == 2
    assert assert_ok(data, TWO_PAGES).outcome == "ok-equal"


@pytest.mark.parametrize("seed, tag, index, value", [
    ("strips", STRIP_OFFSETS, 1, 10**6), ("strips", STRIP_OFFSETS, 2, 2**32 - 1),
    ("tiles", TILE_BYTE_COUNTS, 0, 10**6), ("tiles", TILE_BYTE_COUNTS, 2, 2**32 - 1),
])
def test_chunk_ranges_past_the_end_are_refused_at_build(seed, tag, index, value):
    base = STRIPS if seed == "strips" else TILES_ZLIB
    data = fuzz.set_array_value(base.data, tag, index, value)
    with pytest.raises(TiffFormatError, match=rf"chunk {index} .* but the object has only {len(data)} bytes"):
        build(data)


@pytest.mark.parametrize("index, value", [(0, 10**6), (2, 2**32 - 1)])
def test_overstated_uncompressed_byte_counts_read_their_rows(index, value):
    """An uncompressed strip whose StripByteCounts overstates its data (pillow's tiff_wrong_bits_per_sample
    does) reads like libtiff, GDAL and tifffile: the reference is trimmed to the strip's rows, which exist."""
    data = fuzz.set_array_value(STRIPS.data, STRIP_BYTE_COUNTS, index, value)
    assert assert_ok(data, STRIPS).outcome == "ok-equal"


def test_truncated_data_is_refused_at_build_not_zero_padded():
    data = LZW_PRED3.data
    last = LZW_PRED3.map.ifds[0].offset  # tifffile writes the IFD first, pixel data after it
    assert last < len(data) - 100
    with pytest.raises(TiffFormatError, match=r"past|truncated"):
        build(data[:-50])


@pytest.mark.parametrize("count", [0, 1, 5, 7, 12])
def test_offset_counts_disagreeing_with_the_grid(count):
    data = fuzz.set_count(TILES_ZLIB.data, TILE_OFFSETS, count)
    if count < 6:  # 37 x 23 pixels in 16 x 16 tiles: a 3 x 2 grid
        with pytest.raises(TiffFormatError):
            build(data)
    else:  # extra entries beyond the grid are ignored, as libtiff and tifffile do
        assert assert_ok(data, TILES_ZLIB).outcome == "ok-equal"


@pytest.mark.parametrize("tag", [IMAGE_WIDTH, IMAGE_LENGTH])
def test_absurd_dimensions_fail_fast_with_bounded_memory(tag):
    data = fuzz.set_tag(fuzz.set_tag(STRIPS.data, IMAGE_WIDTH, 2**31), IMAGE_LENGTH, 2**31)
    tracemalloc.start()
    try:
        with pytest.raises((TiffFormatError, LimitExceededError)):
            build(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB"


def test_huge_chunk_grid_is_a_limit_not_an_allocation():
    data = fuzz.set_tag(fuzz.set_tag(TILES_ZLIB.data, IMAGE_WIDTH, 2**31 - 1), IMAGE_LENGTH, 2**31 - 1)
    with pytest.raises(LimitExceededError, match="max_chunks_per_array"):
        build(data)


@pytest.mark.parametrize("tag", [IMAGE_WIDTH, IMAGE_LENGTH])
def test_zero_size_images(tag):
    with pytest.raises(TiffFormatError, match="empty image"):
        build(fuzz.set_tag(STRIPS.data, tag, 0, typ=3))


def test_unknown_tags_are_ignored():
    data = fuzz.rename_tag(STRIPS.data, 305, 65000)  # Software -> a private tag nobody knows
    assert assert_ok(data, STRIPS).outcome == "ok-equal"
    np.testing.assert_array_equal(build(data)[0], STRIPS.arrays[0])


@pytest.mark.parametrize("typ", [0, 14, 15, 19, 255])
def test_entries_of_unknown_field_type_are_skipped(typ):
    data = fuzz.set_tag_type(STRIPS.data, 305, typ)
    assert assert_ok(data, STRIPS).outcome == "ok-equal"


def test_duplicate_tag_first_wins_as_in_tifffile():
    data = fuzz.rename_tag(STRIPS.data, 296, IMAGE_LENGTH)  # a second ImageLength (value 1) after the first
    arrays = build(data)
    assert arrays[0].shape == STRIPS.arrays[0].shape
    assert assert_ok(data, STRIPS).outcome == "ok-equal"


def test_unknown_predictor_is_refused_not_ignored():
    data = fuzz.set_tag(SEEDS["u16-pred2-zlib-be"].data, PREDICTOR, 12, typ=3)
    with pytest.raises(UnsupportedTiffError, match="Predictor=12"):
        build(data)


@pytest.mark.parametrize("value", [0, 3, 65])
def test_invalid_planar_configuration_is_refused(value):
    data = fuzz.set_tag(SEPARATE_ZSTD.data, PLANAR, value, typ=3)
    with pytest.raises(TiffFormatError, match=f"PlanarConfiguration={value}"):
        build(data)


def test_chunk_decoding_short_is_refused_not_zero_padded():
    """With PlanarConfiguration dropped the separate planes read as chunky: each strip decodes to a third of
    its chunk. Padding would return zeros as pixels; the pad codec refuses instead."""
    data = fuzz.rename_tag(SEPARATE_ZSTD.data, PLANAR, 65001)
    with pytest.raises(TiffFormatError, match="decoded to"):
        build(data)


def test_strip_rows_beyond_the_image_are_ignored_like_tifffile():
    """ImageLength cut to 1 row: each LZW strip still holds 6 rows; decoding stops after the first."""
    data = fuzz.set_tag(LZW_PRED3.data, IMAGE_LENGTH, 1)
    np.testing.assert_array_equal(build(data)[0], LZW_PRED3.arrays[0][:1])
    assert assert_ok(data, LZW_PRED3).outcome == "ok-equal"


def test_corrupt_chunk_is_a_typed_error_naming_the_codec():
    with tifffile.TiffFile(io.BytesIO(LZW_PRED3.data)) as tif:
        strip0 = tif.pages[0].dataoffsets[0]
    data = bytearray(LZW_PRED3.data)
    data[strip0 : strip0 + 64] = b"\xff" * 64
    with pytest.raises(TiffFormatError, match=r"virtual_geotiff\.lzw cannot decode a chunk"):
        build(bytes(data))


def test_enumerated_tag_of_a_wrong_field_type_is_refused():
    data = fuzz.set_tag_type(SEPARATE_ZSTD.data, PLANAR, 7)  # UNDEFINED: tifffile and libtiff disagree on it
    with pytest.raises(TiffFormatError, match="tag 284 is stored as 1 value"):
        build(data)


def test_tag_value_count_limit_is_enforced():
    data = fuzz.set_count(TILES_ZLIB.data, TILE_BYTE_COUNTS, 67_108_870)  # 128 MiB of SHORTs: 67 M offsets
    with pytest.raises(LimitExceededError, match="max_tag_values"):
        build(data)


def test_header_byte_limit_stops_a_huge_tag():
    data = fuzz.set_count(STRIPS.data, 305, 2**30)  # Software claims 1 GiB of text
    with pytest.raises(LimitExceededError):
        build(data)



def test_read_past_the_end_does_not_move_the_end_of_the_object():
    """Found by the campaign (seed 7, case 1007): an empty read past the end set the object's end to the
    read's start (2 GiB), and a later read of the header came back as 2 GiB of zeros after seconds. Now the
    header read fails at once with a typed error."""
    import time

    case = fuzz.make_case(7, 1007)
    t0 = time.perf_counter()
    with pytest.raises((LimitExceededError, TiffFormatError)):
        build(case.data, Limits(timeout_seconds=20.0))
    assert time.perf_counter() - t0 < 3.0
