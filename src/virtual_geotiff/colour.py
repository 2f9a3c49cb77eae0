"""Colour-model attributes: what the stored samples mean when they are not plain grey or RGB values.

Virtual chunks are the file's bytes, so samples reach the user as stored (as tifffile returns them); a
colour model that needs a per-pixel conversion is *described*, not applied:

- ``photometric``: the PhotometricInterpretation as a lower-case name (``"palette"``, ``"miniswhite"``,
  ``"separated"``, ``"cielab"``, ...) whenever it is not plain ``minisblack``/``rgb``. YCbCr JPEG is
  decoded to RGB by the codec, so it carries none.
- Palette: ``colormap`` is the colour table as ``rasterio``'s ``ds.colormap(1)`` gives it: one
  ``[r, g, b, 255]`` entry (0-255) per index, ``2**BitsPerSample`` entries. GDAL's scaling of the
  16-bit TIFF table is reproduced exactly: divided by 257 (integer), or taken as is when every entry is
  below 256. For matplotlib: ``ListedColormap(np.array(attrs["colormap"]) / 255)`` with
  ``imshow(a, cmap=..., vmin=0, vmax=len(colormap) - 1)`` (or ``interpolation="nearest"``).
- MinIsWhite: values as stored (0 is white), exactly what rasterio/GDAL and tifffile return.
- Separated (CMYK) and CIELab: the stored ink / L*a*b* samples, as tifffile returns them; rasterio
  converts these to RGBA through libtiff, which a virtual chunk cannot do byte-exactly.
- ExtraSamples: ``extra_samples`` names each extra band (``"unspecified"``, ``"associated_alpha"``,
  ``"unassociated_alpha"``) and ``alpha_band`` gives the 0-based band index of the alpha band, the
  band rasterio reports as ``ColorInterp.alpha``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tiff.reader import IfdInfo
from .tiff.tags import ExtraSample, Orientation, Photometric

_PLAIN = {Photometric.MINISBLACK, Photometric.RGB}
_NOTES = {
    Photometric.MINISWHITE: "values as stored: 0 is white (rasterio/GDAL and tifffile return the same values); "
    "use max - value for black-is-zero display",
    Photometric.PALETTE: "values are indices into the `colormap` attribute ([r, g, b, a] 0-255 per index, "
    "as rasterio's colormap(1) gives)",
    Photometric.SEPARATED: "ink samples as stored (e.g. CMYK, see InkSet); rasterio converts them to RGBA",
    Photometric.CIELAB: "CIE L*a*b* samples as stored (tifffile's values); rasterio converts them to RGBA",
}
_EXTRA_NAMES = {ExtraSample.UNSPECIFIED: "unspecified", ExtraSample.ASSOCALPHA: "associated_alpha",
                ExtraSample.UNASSALPHA: "unassociated_alpha"}


def photometric_name(value: int) -> str:
    try:
        return Photometric(value).name.lower()
    except ValueError:
        return str(int(value))


def gdal_colormap(colormap: np.ndarray, bits: int) -> list[list[int]]:
    """The TIFF ColorMap (``IfdInfo.colormap``: one ``(r, g, b)`` uint16 row per index, as
    ``tiff.decode`` gives it) as GDAL exposes it: ``[[r, g, b, 255], ...]``, ``2**bits`` entries."""
    table = np.asarray(colormap, dtype=np.uint16).reshape(-1, 3).T[:, : 2**bits]  # size checked by the caller
    scaled = table if int(table.max(initial=0)) < 256 else table // 257
    rgba = np.vstack([scaled, np.full((1, scaled.shape[1]), 255, dtype=np.uint16)]).T
    return rgba.astype(int).tolist()


def colour_attributes(ifd: IfdInfo) -> dict[str, Any]:
    """Attributes describing ``ifd``'s colour model and extra (alpha) bands; empty for plain grey/RGB."""
    attrs: dict[str, Any] = {}
    photometric = ifd.photometric
    decoded_to_rgb = photometric == Photometric.YCBCR  # JPEG and libtiff (codecs.libtiff) both decode it to RGB
    if photometric >= 0 and photometric not in _PLAIN and not decoded_to_rgb:
        attrs["photometric"] = photometric_name(photometric)
        if photometric in _NOTES:
            attrs["photometric_note"] = _NOTES[Photometric(photometric)]
    if photometric == Photometric.PALETTE and ifd.colormap is not None and ifd.colormap.size \
            and ifd.colormap.size % 3 == 0:
        attrs["colormap"] = gdal_colormap(ifd.colormap, ifd.bits_per_sample)
    if ifd.extra_samples:
        names = [_EXTRA_NAMES.get(v, str(v)) for v in ifd.extra_samples]  # type: ignore[call-overload]
        attrs["extra_samples"] = names
        first_extra = ifd.samples_per_pixel - len(ifd.extra_samples)
        alphas = [first_extra + i for i, v in enumerate(ifd.extra_samples)
                  if v in (ExtraSample.ASSOCALPHA, ExtraSample.UNASSALPHA)]
        if alphas:
            attrs["alpha_band"] = alphas[0]
    if ifd.orientation not in (0, Orientation.TOPLEFT):  # 0 (invalid) reads as top-left
        attrs["tiff_orientation"] = ifd.orientation  # stored as is, like GDAL and tifffile return it
    return attrs
