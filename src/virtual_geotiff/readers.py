"""Which Zarr readers can decode a store, from its codec chains: zarr-python, zarrita.js, GDAL and zarrs.

Why: a virtual store is only useful to a reader that decodes every codec in it, and the answer differs per
reader and per add-on (zarr-python with ``virtual-geotiff`` installed decodes everything; zarrita.js with the
``@virtual-geotiff/zarr-codecs`` npm package decodes most custom codecs; zarrs only the standard ones; GDAL
reads the kerchunk JSON export, which holds only Zarr v2 compressors). ``inspect`` prints this and every store
carries it in its ``virtual_geotiff.readable_by`` attribute. The codec sets mirror what the tests check:
``tests/codecs/test_codec_vectors.py`` (Python), ``js/test`` (zarrita.js) and ``tests/js/test_js_*.py`` (GDAL, Node).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .codecs.libtiff import INSTALL_HINT as LIBTIFF_INSTALL_HINT

#: Codec names zarr-python, zarrs and zarrita.js decode without add-ons (as ``codecs.mapping.PORTABLE_CODECS``).
STANDARD = frozenset({"bytes", "transpose", "numcodecs.zlib", "zstd", "gzip"})

#: Every custom codec (the ``zarr.codecs`` entry points of this package): zarr-python decodes them all.
PYTHON_CODECS = frozenset({
    "virtual_geotiff.horizontal_predictor", "virtual_geotiff.floating_point_predictor", "virtual_geotiff.pad",
    "virtual_geotiff.lzw", "virtual_geotiff.packbits", "virtual_geotiff.jpeg", "virtual_geotiff.webp",
    "virtual_geotiff.jpegxl", "virtual_geotiff.png", "virtual_geotiff.lerc", "virtual_geotiff.jpeg2000",
    "virtual_geotiff.bitunpack", "virtual_geotiff.bitorder", "virtual_geotiff.mask_8bit",
    "virtual_geotiff.complex_int", "virtual_geotiff.libtiff",
})

#: Custom codecs the JavaScript package decodes (js/src/index.js ``CODECS``); the rest are Python only there.
JS_CODECS = frozenset({
    "virtual_geotiff.horizontal_predictor", "virtual_geotiff.floating_point_predictor", "virtual_geotiff.pad",
    "virtual_geotiff.bitunpack", "virtual_geotiff.bitorder", "virtual_geotiff.mask_8bit",
    "virtual_geotiff.packbits", "virtual_geotiff.lzw", "virtual_geotiff.jpeg", "virtual_geotiff.webp",
    "virtual_geotiff.png",
})

#: Codecs GDAL reads through the kerchunk JSON export: Zarr v2 compressors (``transpose`` has no v2 form).
GDAL_CODECS = frozenset({"bytes", "numcodecs.zlib", "zstd", "gzip", "numcodecs.lzma"})


@dataclass(frozen=True)
class Reader:
    """A Zarr reader: the codecs it decodes, and what it needs for them."""

    name: str
    decodes: frozenset[str]
    #: codecs it decodes only with an add-on, and that add-on
    with_addon: frozenset[str] = frozenset()
    addon: str | None = None
    #: how it reaches the store when not directly (GDAL has no Icechunk reader in a release)
    via: str | None = None
    #: codecs that need more than ``addon`` (an extra), and what to install instead
    addon_for: tuple[tuple[str, str], ...] = ()

    def requirement(self, used: set[str]) -> str | None:
        """The add-on a store using codecs ``used`` needs: the first codec-specific one, else ``addon``."""
        return next((addon for name, addon in self.addon_for if name in used), self.addon)

    def supports(self, codec: Mapping[str, Any]) -> bool:
        name = codec["name"]
        if name == "virtual_geotiff.jpeg" and self.name == "zarrita.js":
            config = codec.get("configuration") or {}  # jSquash decodes 8-bit grey, YCbCr and RGB only
            return config.get("bits", 8) == 8 and config.get("outcolorspace") in (None, 1, 2) \
                and config.get("colorspace") in (None, 2)
        return name in self.decodes or name in self.with_addon


READERS: tuple[Reader, ...] = (
    Reader("zarr-python", STANDARD | {"numcodecs.lzma"}, with_addon=PYTHON_CODECS,
           addon="pip install virtual-geotiff",
           addon_for=(("virtual_geotiff.libtiff", LIBTIFF_INSTALL_HINT),)),  # GDAL's libtiff, via rasterio
    Reader("zarrita.js", STANDARD, with_addon=JS_CODECS, addon="npm install @virtual-geotiff/zarr-codecs"),
    Reader("GDAL", GDAL_CODECS, via="the kerchunk JSON export (GDAL >= 3.11, /vsikerchunk_json_ref/)"),
    Reader("zarrs", STANDARD),
)


def readable_by(chains: Iterable[Iterable[Mapping[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per reader: ``readable`` (bool), ``requires`` (the add-on to install, or None), ``via`` (GDAL), and the
    ``unsupported`` codec names when it cannot read every chain."""
    codecs = [c for chain in chains for c in chain]
    used = {c["name"] for c in codecs}
    out: dict[str, dict[str, Any]] = {}
    for reader in READERS:
        unsupported = sorted({c["name"] for c in codecs if not reader.supports(c)})
        needs_addon = any(n not in reader.decodes for n in used) and not unsupported
        entry: dict[str, Any] = {"readable": not unsupported,
                                 "requires": reader.requirement(used) if needs_addon else None}
        if reader.via:
            entry["via"] = reader.via
        if unsupported:
            entry["unsupported"] = unsupported
        out[reader.name] = entry
    return out


def describe(readable: Mapping[str, Mapping[str, Any]]) -> str:
    """One line for people: ``zarr-python yes; zarrita.js yes (npm install ...); GDAL no (...); zarrs no (...)``."""
    parts = []
    for name, entry in readable.items():
        if entry["readable"]:
            parts.append(f"{name} yes" + (f" ({entry['requires']})" if entry.get("requires") else ""))
        else:
            parts.append(f"{name} no ({', '.join(entry['unsupported'])})")
    return "; ".join(parts)
