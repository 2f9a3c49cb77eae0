"""Read-speed machinery: how zarr decodes and fetches the chunks of a store, never what they decode to.

Why a package of its own, above ``codecs/``: the codecs define what a store's metadata means and must work in
any zarr-python process; this package only changes, on request, which implementation zarr picks for a codec
name (``zlib.py``: libdeflate for ``numcodecs.zlib``) and which codec pipeline reads arrays (``pipeline.py``:
chunks fetched and decoded in groups, ``fused.py``: Deflate + predictor in one pass). Decoded arrays are
byte-identical either way; what is gained is measured in docs/performance.md.

Import order: ``zlib`` <- ``fused`` <- ``pipeline`` <- this module (``use_fast_decoders`` /
``use_default_decoders``, re-exported by ``virtual_geotiff``).
"""

from __future__ import annotations

from .pipeline import ZARR_PIPELINE, set_codec_pipeline, use_fast_pipeline
from .zlib import QUALNAME as ZLIB_QUALNAME
from .zlib import ZARR_ZLIB, set_zlib_decoder

__all__ = ["use_default_decoders", "use_fast_decoders"]


def use_fast_decoders(*, pipeline: bool = True) -> None:
    """Make zarr read faster in this process (zarr config changes; decoded arrays are byte-identical).

    Decodes ``numcodecs.zlib`` chunks with libdeflate and, unless ``pipeline=False``, reads arrays through
    ``virtual_geotiff.fastread.pipeline.GroupedReadPipeline`` (chunks fetched and decoded in groups, one
    thread hop per group, Deflate + predictor in one pass). Both apply to arrays opened afterwards;
    ``use_default_decoders()`` restores zarr's own.
    """
    set_zlib_decoder(ZLIB_QUALNAME)
    if pipeline:
        use_fast_pipeline()


def use_default_decoders() -> None:
    """Undo ``use_fast_decoders``: zarr's own ``numcodecs.zlib`` and ``BatchedCodecPipeline``."""
    set_zlib_decoder(ZARR_ZLIB)
    set_codec_pipeline(ZARR_PIPELINE)
