"""Case tables that several test modules run: the conformance matrix and the sparse-tile cases.

One table, one definition: the conformance tests (``tests/parser``) and the read-pipeline tests
(``tests/codecs``) parametrise over the same cases, so a case added here is read both ways.

The matrix is a covering set, not a cartesian product: every dtype meets several compressions, every
compression several dtypes and layouts, and predictors, planar configurations, byte orders and BigTIFF
each cross the others a few times.
"""

from __future__ import annotations

import pytest

from tests.support.helpers import Case

INT_DTYPES = ("uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64")
FLOAT_DTYPES = ("float16", "float32", "float64")
ALL_DTYPES = (*INT_DTYPES, *FLOAT_DTYPES, "complex64")


def conformance_cases() -> list[Case]:
    """The conformance matrix, in a fixed order (test ids follow ``Case.id``)."""
    cases: list[Case] = []
    add = cases.append

    # 1. Every dtype with a spread of lossless byte compressions and layouts.
    core = (
        (None, "strips-partial"),
        ("zlib", "tiles"),
        ("lzw", "strips"),
        ("zstd", "tiles"),
        ("packbits", "strips-partial"),
        ("lzma", "strip-single"),
    )
    for i, dtype in enumerate(ALL_DTYPES):  # each dtype meets 4 of the 6, each pair is met by 8 dtypes
        for k in range(4):
            compression, layout = core[(i + k) % len(core)]
            add(Case(dtype, compression, layout))

    # 2. Deflate under both codes: 8 (Adobe, tifffile "zlib") and 32946 (tifffile "deflate").
    add(Case("uint16", "zlib", "strips-partial", expect_compression_tag=8))
    add(Case("uint16", "deflate", "strips-partial", expect_compression_tag=32946))
    add(Case("float32", "deflate", "tiles", samples=3, expect_compression_tag=32946))
    add(Case("int16", "adobe_deflate", "tiles", predictor=2, expect_compression_tag=8))

    # 3. Samples per pixel 3 and 4, chunky and planar, across dtypes, compressions and layouts.
    multi = (
        (None, "tiles"),
        (None, "strips-partial"),
        ("zlib", "strips-partial"),
        ("lzw", "tiles"),
        ("zstd", "strips"),
    )
    configs = ((3, "contig"), (3, "separate"), (4, "contig"), (4, "separate"))
    for i, dtype in enumerate(("uint8", "uint16", "float32", "int32")):
        for j, (samples, planar) in enumerate(configs):
            for k in range(2):  # rotate through the five compression/layout pairs
                compression, layout = multi[(2 * (i + j) + k) % len(multi)]
                add(Case(dtype, compression, layout, samples=samples, planar=planar,
                         photometric="minisblack" if (samples == 4 and planar == "separate") else None))
    for dtype in ("int8", "float64", "uint64", "complex64"):
        add(Case(dtype, "zstd", "tiles", samples=3))
        add(Case(dtype, "packbits", "strips-partial", samples=4, planar="separate", photometric="minisblack"))

    # 4. Predictor 2 on every integer width: one sample, chunky RGB tiles, planar RGB strips.
    for dtype in INT_DTYPES:
        add(Case(dtype, "zlib", "strips-partial", predictor=2))
        add(Case(dtype, "lzw", "tiles", samples=3, predictor=2))
        add(Case(dtype, "zstd", "strips-partial", samples=3, planar="separate", predictor=2))
    add(Case("uint16", "zlib", "tiles", samples=4, predictor=2))

    # 5. Predictor 3 on every float width.
    for dtype in FLOAT_DTYPES:
        add(Case(dtype, "zlib", "strips-partial", predictor=3))
        add(Case(dtype, "zstd", "tiles", samples=3, predictor=3))
        add(Case(dtype, "lzw", "strips", samples=3, planar="separate", predictor=3))
        add(Case(dtype, "zlib", "tiles", predictor=3, byteorder=">"))
    add(Case("float32", "lzma", "tiles", samples=4, predictor=3))

    # 6. Big-endian files.
    for dtype in ("uint16", "int32", "float32", "float64", "complex64", "uint64", "int8"):
        add(Case(dtype, None, "strips-partial", byteorder=">"))
        add(Case(dtype, "lzw", "tiles", samples=3, byteorder=">"))
    for dtype in ("uint16", "int32", "int64"):
        add(Case(dtype, "zlib", "tiles", predictor=2, byteorder=">"))
    add(Case("uint16", "zstd", "strips-partial", samples=3, planar="separate", predictor=2, byteorder=">"))
    add(Case("float32", "packbits", "strips", byteorder=">"))

    # 7. BigTIFF.
    add(Case("uint8", None, "strips-partial", bigtiff=True))
    add(Case("float32", "zstd", "tiles", bigtiff=True, predictor=3))
    add(Case("uint16", "lzw", "strips-partial", samples=3, predictor=2, bigtiff=True))
    add(Case("int16", "zlib", "tiles", samples=3, planar="separate", bigtiff=True, byteorder=">"))
    add(Case("complex64", None, "tiles", bigtiff=True))

    # 8. Image codecs: tifffile decodes them with the same imagecodecs, so the comparison stays exact.
    rgb_as_rgb = (("outcolorspace", "rgb"),)
    jpeg = (
        Case("uint8", "jpeg", "strips-partial"),
        Case("uint8", "jpeg", "tiles"),
        # tifffile stores RGB input as YCbCr 2x2 by default (strips of 16 rows: whole MCUs).
        Case("uint8", "jpeg", "tiles", samples=3, photometric="rgb", subsampling=(2, 2)),
        Case("uint8", "jpeg", "strips-partial", samples=3, photometric="rgb", subsampling=(2, 2), rowsperstrip=16),
        Case("uint8", "jpeg", "strips", samples=3, photometric="rgb", subsampling=(2, 2), rowsperstrip=16),
        Case("uint8", "jpeg", "tiles", samples=3, photometric="ycbcr", subsampling=(2, 1)),
        # RGB stored as RGB (no colour conversion), chunky and planar.
        Case("uint8", "jpeg", "tiles", samples=3, subsampling=(1, 1), compressionargs=rgb_as_rgb),
        Case("uint8", "jpeg", "strips-partial", samples=3, subsampling=(1, 1), compressionargs=rgb_as_rgb),
        Case("uint8", "jpeg", "strips", samples=3, planar="separate"),
        # CMYK (Photometric=Separated), stored as CMYK.
        Case("uint8", "jpeg", "tiles", samples=4, photometric="separated"),
    )
    webp = (
        Case("uint8", "webp", "tiles", samples=3),
        Case("uint8", "webp", "tiles", samples=4),
        Case("uint8", "webp", "strips-partial", samples=3),
        Case("uint8", "webp", "strips", samples=4, compressionargs=(("lossless", True),)),
    )
    jpegxl = (
        Case("uint8", "jpegxl", "tiles", compressionargs=(("lossless", True),)),
        Case("uint8", "jpegxl", "tiles", samples=3, compressionargs=(("lossless", True),)),
        Case("uint16", "jpegxl", "strips-partial", compressionargs=(("lossless", True),)),
        Case("uint8", "jpegxl", "strips", samples=4, compressionargs=(("lossless", True),)),
    )
    png = (
        Case("uint8", "png", "strips-partial"),
        Case("uint8", "png", "tiles", samples=3),
        Case("uint16", "png", "tiles"),
        Case("uint8", "png", "strips", samples=4),
        Case("uint16", "png", "strips-partial", samples=3, planar="separate"),
    )
    lerc = (
        Case("float32", "lerc", "tiles", nan=False),
        Case("float32", "lerc", "strips-partial", nan=False),
        Case("uint8", "lerc", "tiles"),
        Case("uint8", "lerc", "strips-partial", samples=3),
        Case("float32", "lerc", "tiles", nan=False, compressionargs=(("compression", "deflate"),)),
        Case("float32", "lerc", "strips", nan=False, compressionargs=(("compression", "zstd"),)),
        Case("uint16", "lerc", "tiles", samples=3, planar="separate", compressionargs=(("compression", "zstd"),)),
        Case("float64", "lerc", "tiles", nan=False),
        Case("float32", "lerc", "strips-partial", samples=3, compressionargs=(("compression", "deflate"),)),
    )
    jpeg2000 = (
        Case("uint8", "jpeg2000", "tiles"),
        Case("uint8", "jpeg2000", "tiles", samples=3),
        Case("uint16", "jpeg2000", "strips-partial"),
        Case("uint8", "jpeg2000", "strips", samples=3, planar="separate"),
    )
    cases.extend((*jpeg, *webp, *jpegxl, *png, *lerc, *jpeg2000))
    return cases


#: Read through ``VirtualTIFF`` by the conformance tests and through the grouped read pipeline by the codec tests.
CASES = conformance_cases()


# 37 x 53 pixels in 16 x 16 tiles: 3 rows of 4 tiles (12 per plane). tifffile needs the first tile present.
SPARSE = [
    pytest.param("uint16", None, 1, "contig", {5, 11}, id="u16-none"),
    pytest.param("float32", "zlib", 1, "contig", {1, 3, 4}, id="f32-zlib"),
    pytest.param("uint16", "zlib", 1, "contig", {4, 5, 6, 7}, id="u16-zlib-row-of-tiles"),
    pytest.param("uint8", "zstd", 3, "contig", {2, 7, 11}, id="u8-zstd-rgb"),
    pytest.param("int16", "lzw", 3, "separate", {12, 17, 35}, id="i16-lzw-planar"),
]
