"""``tiff.tags``, the one home of TIFF numbers, against tifffile's tables (an independent reading of the specs)."""

from __future__ import annotations

import tifffile

from virtual_geotiff.geo.crs import key_label
from virtual_geotiff.tiff.decode import GEO_KEY_NAMES
from virtual_geotiff.tiff.tags import FieldType, FillOrder, GeoKey, Orientation, SubfileType, Tag

#: tifffile spells GeoKey 2055 as an early draft did; the GeoTIFF 1.0 spec (and libgeotiff) say UnitSize.
_TIFFFILE_SPELLING = {2055: "GeogAngularUnitsSizeGeoKey"}


def _squash(name: str) -> str:
    return name.replace("_", "").upper().removesuffix("TAG")


def test_tag_numbers_and_names_are_tifffiles():
    for tag in Tag:
        assert _squash(tag.name) == _squash(tifffile.TIFF.TAGS[int(tag)]), tag


def test_field_types_are_tifffiles():
    for typ in FieldType:
        assert tifffile.DATATYPE(int(typ)).name == typ.name


def test_fill_order_and_orientation_are_tifffiles():
    for value in FillOrder:
        assert tifffile.FILLORDER(int(value)).name == value.name
    for value in Orientation:
        assert tifffile.ORIENTATION(int(value)).name == value.name


def test_subfile_type_bits_are_tifffiles():
    for bit in SubfileType:
        assert tifffile.FILETYPE[bit.name.replace("_", "")].value == bit.value
    assert SubfileType.REDUCED_IMAGE | SubfileType.MASK == 5


def test_geokey_ids_and_labels_are_tifffiles():
    names = {int(k): k.name for k in tifffile.TIFF.GEO_KEYS}
    for key in GeoKey:
        assert names[int(key)] == _TIFFFILE_SPELLING.get(int(key), key.label), key
        assert key_label(key.key) == f"{key.label} ({int(key)})"
    assert key_label("GeogTOWGS84GeoKey") == "GeogTOWGS84GeoKey"  # a label passes through


def test_decoded_geokey_names_are_the_enum_keys():
    """``GeoTags.geo_keys`` names keys by ``GeoKey.key``; the two keys ``geo.crs`` reads raw are not decoded."""
    raw = {GeoKey.GEOG_TOWGS84, GeoKey.PROJ_RECTIFIED_GRID_ANGLE}
    assert {int(k): k.key for k in GeoKey if k not in raw} == GEO_KEY_NAMES
    assert all(type(k) is int for k in GEO_KEY_NAMES)


def test_enum_values_format_as_numbers_in_messages():
    assert f"tag {Tag.COMPRESSION}" == "tag 259" and str(GeoKey.PROJECTED_TYPE) == "3072"
