"""The coordinate reference system of an IFD, from its GeoKeys, as GDAL/libgeotiff read them.

Pure functions over the ``geo_keys`` dict of ``GeoTags`` (snake_case key names, ``tiff.decode``). Three cases:

* EPSG codes (``ProjectedCSTypeGeoKey``, ``GeographicTypeGeoKey``): ``pyproj.CRS.from_epsg``; a
  ``ProjLinearUnitsGeoKey`` that differs from the EPSG unit overrides it, as GDAL does.
* user-defined projected CRSs (32767): an EPSG conversion code (``ProjectionGeoKey``) or a GeoTIFF
  coordinate transformation (``ProjCoordTransGeoKey``) with explicit parameters, mapped to the EPSG/PROJ
  method with libgeotiff's fall-back order between parameter keys, on a user-defined or EPSG base CRS;
* user-defined geographic CRSs: datum, ellipsoid, prime meridian and angular unit keys.

Vertical keys (``VerticalCSTypeGeoKey`` ...) are read by ``vertical_crs_from_geokeys``; GDAL reports only
the horizontal CRS by default (``GTIFF_REPORT_COMPD_CS=NO``), so ``crs_from_geokeys`` does the same unless
asked for the compound CRS.

Keys that are present but cannot be interpreted (an unknown EPSG code, an unsupported projection method,
a user-defined value without its parameters) raise ``UnsupportedTiffError`` naming the key: a wrong CRS
is worse than none.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any

import pyproj
from pyproj.exceptions import CRSError

from ..errors import UnsupportedTiffError
from ..tiff.tags import GeoKey, Tag

USER_DEFINED = 32767
UNDEFINED = 0

#: ``GeoTags.geo_keys`` names -> their GeoKey, for messages (``key_label``).
_GEO_KEYS_BY_NAME: dict[str, GeoKey] = {key.key: key for key in GeoKey}

# GTModelTypeGeoKey values
MODEL_PROJECTED = 1
MODEL_GEOGRAPHIC = 2
MODEL_GEOCENTRIC = 3

# ProjCoordTransGeoKey values (GeoTIFF 1.0 section 6.3.3.3)
CT_TRANSVERSE_MERCATOR = 1
CT_TRANSV_MERCATOR_MODIFIED_ALASKA = 2
CT_OBLIQUE_MERCATOR = 3
CT_OBLIQUE_MERCATOR_LABORDE = 4
CT_OBLIQUE_MERCATOR_ROSENMUND = 5
CT_OBLIQUE_MERCATOR_SPHERICAL = 6
CT_MERCATOR = 7
CT_LAMBERT_CONF_CONIC_2SP = 8
CT_LAMBERT_CONF_CONIC_1SP = 9
CT_LAMBERT_AZIM_EQUAL_AREA = 10
CT_ALBERS_EQUAL_AREA = 11
CT_AZIMUTHAL_EQUIDISTANT = 12
CT_EQUIDISTANT_CONIC = 13
CT_STEREOGRAPHIC = 14
CT_POLAR_STEREOGRAPHIC = 15
CT_OBLIQUE_STEREOGRAPHIC = 16
CT_EQUIRECTANGULAR = 17
CT_CASSINI_SOLDNER = 18
CT_GNOMONIC = 19
CT_MILLER_CYLINDRICAL = 20
CT_ORTHOGRAPHIC = 21
CT_POLYCONIC = 22
CT_ROBINSON = 23
CT_SINUSOIDAL = 24
CT_VAN_DER_GRINTEN = 25
CT_NEW_ZEALAND_MAP_GRID = 26
CT_TRANSV_MERCATOR_SOUTH_ORIENTED = 27
CT_CYLINDRICAL_EQUAL_AREA = 28
CT_HOTINE_OBLIQUE_MERCATOR_AZIMUTH_CENTER = 9815  # libgeotiff's extension (EPSG method code)

# EPSG parameter codes and names
_P = {
    8801: "Latitude of natural origin",
    8802: "Longitude of natural origin",
    8805: "Scale factor at natural origin",
    8806: "False easting",
    8807: "False northing",
    8821: "Latitude of false origin",
    8822: "Longitude of false origin",
    8823: "Latitude of 1st standard parallel",
    8824: "Latitude of 2nd standard parallel",
    8826: "Easting at false origin",
    8827: "Northing at false origin",
    8832: "Latitude of standard parallel",
    8833: "Longitude of origin",
    8811: "Latitude of projection centre",
    8812: "Longitude of projection centre",
    8813: "Azimuth of initial line",
    8814: "Angle from Rectified to Skew Grid",
    8815: "Scale factor on initial line",
    8816: "Easting at projection centre",
    8817: "Northing at projection centre",
}
LAT_NAT, LON_NAT, K_NAT, FE, FN = 8801, 8802, 8805, 8806, 8807
LAT_FO, LON_FO, SP1, SP2, E_FO, N_FO = 8821, 8822, 8823, 8824, 8826, 8827
LAT_TS, LON_ORIGIN = 8832, 8833

# The fall-back order between GeoKeys for each kind of parameter, as GDAL (its libgeotiff) applies it to every
# coordinate transformation: checked key by key against rasterio (the natural-origin key first, whatever the
# method's own parameter is called).
_NAT_FIRST_LON = ("proj_nat_origin_long", "proj_false_origin_long", "proj_center_long")
_NAT_FIRST_LAT = ("proj_nat_origin_lat", "proj_false_origin_lat", "proj_center_lat")
_SCALE = ("proj_scale_at_nat_origin", "proj_scale_at_center")
_NAT_SCALE = ("proj_scale_at_nat_origin",)  # Mercator and stereographic never read ProjScaleAtCenterGeoKey
_FALSE_E = ("proj_false_easting", "proj_center_easting", "proj_false_origin_easting")
_FALSE_N = ("proj_false_northing", "proj_center_northing", "proj_false_origin_northing")

_ANGLE, _LENGTH, _SCALE_UNIT, _AZIMUTH = "angle", "length", "scale", "azimuth"

#: CT code -> (method name, EPSG method code or None, [(EPSG parameter, keys, default, kind), ...])
_NAT_TM = [
    (LAT_NAT, _NAT_FIRST_LAT, 0.0, _ANGLE),
    (LON_NAT, _NAT_FIRST_LON, 0.0, _ANGLE),
    (K_NAT, _SCALE, 1.0, _SCALE_UNIT),
    (FE, _FALSE_E, 0.0, _LENGTH),
    (FN, _FALSE_N, 0.0, _LENGTH),
]
_CENTER_4 = [
    (LAT_NAT, _NAT_FIRST_LAT, 0.0, _ANGLE),
    (LON_NAT, _NAT_FIRST_LON, 0.0, _ANGLE),
    (FE, _FALSE_E, 0.0, _LENGTH),
    (FN, _FALSE_N, 0.0, _LENGTH),
]
_NAT_4 = [
    (LAT_NAT, _NAT_FIRST_LAT, 0.0, _ANGLE),
    (LON_NAT, _NAT_FIRST_LON, 0.0, _ANGLE),
    (FE, _FALSE_E, 0.0, _LENGTH),
    (FN, _FALSE_N, 0.0, _LENGTH),
]
_LON_ONLY = [
    (LON_NAT, _NAT_FIRST_LON, 0.0, _ANGLE),
    (FE, _FALSE_E, 0.0, _LENGTH),
    (FN, _FALSE_N, 0.0, _LENGTH),
]
_CONIC_2SP = [
    (LAT_FO, _NAT_FIRST_LAT, 0.0, _ANGLE),
    (LON_FO, _NAT_FIRST_LON, 0.0, _ANGLE),
    (SP1, ("proj_std_parallel1",), 0.0, _ANGLE),
    (SP2, ("proj_std_parallel2",), 0.0, _ANGLE),
    (E_FO, _FALSE_E, 0.0, _LENGTH),
    (N_FO, _FALSE_N, 0.0, _LENGTH),
]
_ALBERS = [
    (LAT_FO, _NAT_FIRST_LAT, 0.0, _ANGLE),
    (LON_FO, _NAT_FIRST_LON, 0.0, _ANGLE),
    (SP1, ("proj_std_parallel1",), 0.0, _ANGLE),
    (SP2, ("proj_std_parallel2",), 0.0, _ANGLE),
    (E_FO, _FALSE_E, 0.0, _LENGTH),
    (N_FO, _FALSE_N, 0.0, _LENGTH),
]
_STEREO = [
    (LAT_NAT, _NAT_FIRST_LAT, 0.0, _ANGLE),
    (LON_NAT, _NAT_FIRST_LON, 0.0, _ANGLE),
    (K_NAT, _NAT_SCALE, 1.0, _SCALE_UNIT),
    (FE, _FALSE_E, 0.0, _LENGTH),
    (FN, _FALSE_N, 0.0, _LENGTH),
]
_CEA = [
    (SP1, ("proj_std_parallel1",), 0.0, _ANGLE),
    (LON_NAT, _NAT_FIRST_LON, 0.0, _ANGLE),
    (FE, _FALSE_E, 0.0, _LENGTH),
    (FN, _FALSE_N, 0.0, _LENGTH),
]

_METHODS: dict[int, tuple[str, int | None, list]] = {
    CT_TRANSVERSE_MERCATOR: ("Transverse Mercator", 9807, _NAT_TM),
    CT_TRANSV_MERCATOR_SOUTH_ORIENTED: ("Transverse Mercator (South Orientated)", 9808, _NAT_TM),
    CT_LAMBERT_CONF_CONIC_1SP: ("Lambert Conic Conformal (1SP)", 9801, _NAT_TM),
    CT_OBLIQUE_STEREOGRAPHIC: ("Oblique Stereographic", 9809, _NAT_TM),
    CT_LAMBERT_CONF_CONIC_2SP: ("Lambert Conic Conformal (2SP)", 9802, _CONIC_2SP),
    CT_ALBERS_EQUAL_AREA: ("Albers Equal Area", 9822, _ALBERS),
    CT_EQUIDISTANT_CONIC: ("Equidistant Conic", 1119, _ALBERS),
    CT_LAMBERT_AZIM_EQUAL_AREA: ("Lambert Azimuthal Equal Area", 9820, _CENTER_4),
    CT_AZIMUTHAL_EQUIDISTANT: ("Azimuthal Equidistant", 1125, _CENTER_4),
    CT_ORTHOGRAPHIC: ("Orthographic", 9840, _CENTER_4),
    CT_GNOMONIC: ("Gnomonic", None, _CENTER_4),
    CT_NEW_ZEALAND_MAP_GRID: ("New Zealand Map Grid", 9811, _CENTER_4),
    CT_CASSINI_SOLDNER: ("Cassini-Soldner", 9806, _NAT_4),
    CT_POLYCONIC: ("American Polyconic", 9818, _NAT_4),
    CT_STEREOGRAPHIC: ("Stereographic", None, _STEREO),
    CT_MILLER_CYLINDRICAL: ("Miller Cylindrical", None, _LON_ONLY),
    CT_ROBINSON: ("Robinson", None, _LON_ONLY),
    CT_SINUSOIDAL: ("Sinusoidal", None, _LON_ONLY),
    CT_VAN_DER_GRINTEN: ("Van Der Grinten", None, _LON_ONLY),
    CT_CYLINDRICAL_EQUAL_AREA: ("Lambert Cylindrical Equal Area", 9835, _CEA),
    # GDAL's SetLOM (the natural-origin keys first, as for every method); PROJ's labrd
    CT_OBLIQUE_MERCATOR_LABORDE: ("Laborde Oblique Mercator", 9813, [
        (8811, _NAT_FIRST_LAT, 0.0, _ANGLE),
        (8812, _NAT_FIRST_LON, 0.0, _ANGLE),
        (8813, ("proj_azimuth_angle",), 0.0, _AZIMUTH),
        (8815, _SCALE, 1.0, _SCALE_UNIT),
        (FE, _FALSE_E, 0.0, _LENGTH),
        (FN, _FALSE_N, 0.0, _LENGTH),
    ]),
}

_SUPPORTED_CT = frozenset(_METHODS) | {CT_MERCATOR, CT_POLAR_STEREOGRAPHIC, CT_EQUIRECTANGULAR, CT_OBLIQUE_MERCATOR,
                                        CT_HOTINE_OBLIQUE_MERCATOR_AZIMUTH_CENTER}

_CT_NAMES = {
    value: name
    for name, value in globals().items()
    if name.startswith("CT_") and isinstance(value, int)
}


def key_label(name: str) -> str:
    """``ProjectedCSTypeGeoKey (3072)`` for ``projected_type``."""
    key = _GEO_KEYS_BY_NAME.get(name)
    return name if key is None else f"{key.label} ({int(key)})"


def _fail(name: str, value: Any, why: str, where: str) -> UnsupportedTiffError:
    loc = f" in {where}" if where else ""
    return UnsupportedTiffError(
        f"{key_label(name)}={value!r}{loc}: {why}. virtual-geotiff does not guess a CRS; fix the GeoKeys "
        "(e.g. gdal_edit.py -a_srs EPSG:XXXX) or reproject the file with gdalwarp"
    )


def _code(keys: Mapping[str, Any], name: str) -> int | None:
    """An integer code key; None when absent or 0 (undefined)."""
    value = keys.get(name)
    if value is None:
        return None
    try:
        code = int(value)
    except (TypeError, ValueError):
        raise _fail(name, value, "expected one integer code", "") from None
    return None if code == UNDEFINED else code


def _float(keys: Mapping[str, Any], name: str) -> float | None:
    value = keys.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(name, value, "expected one number", "") from None
    if not math.isfinite(number):
        raise _fail(name, value, "expected a finite number", "")
    return number


# ---------------------------------------------------------------------------------------------- units


@functools.lru_cache(maxsize=2)
def _units(category: str) -> dict[int, Any]:
    from pyproj.database import get_units_map

    return {int(u.code): u for u in get_units_map(auth_name="EPSG", category=category).values()
            if u.code.isdigit()}


def _unit_json(unit: Any, kind: str) -> dict[str, Any]:
    return {
        "type": kind,
        "name": unit.name,
        "conversion_factor": unit.conv_factor,
        "id": {"authority": "EPSG", "code": int(unit.code)},
    }


def _linear_unit(keys: Mapping[str, Any], code_key: str, size_key: str, where: str) -> dict[str, Any] | None:
    """PROJJSON unit of a linear-units key pair (code, or 32767 + size in metres); None when absent."""
    code = _code(keys, code_key)
    if code is None:
        return None
    if code == USER_DEFINED:
        size = _float(keys, size_key)
        if size is None or not size > 0:
            raise _fail(code_key, code, f"user-defined units need {key_label(size_key)} (metres per unit)", where)
        return {"type": "LinearUnit", "name": "unknown", "conversion_factor": size}
    unit = _units("linear").get(code)
    if unit is None or not unit.conv_factor:
        raise _fail(code_key, code, "not an EPSG linear unit code", where)
    return _unit_json(unit, "LinearUnit")


def _angular_unit(keys: Mapping[str, Any], where: str, key: str = "geog_angular_units") -> dict[str, Any] | None:
    code = _code(keys, key)
    if code is None:
        return None
    if code == USER_DEFINED:
        size = _float(keys, "geog_angular_unit_size")
        if size is None or not size > 0:
            raise _fail(key, code,
                        f"user-defined units need {key_label('geog_angular_unit_size')} (radians per unit)", where)
        return {"type": "AngularUnit", "name": "unknown", "conversion_factor": size}
    unit = _units("angular").get(code)
    if unit is None or not unit.conv_factor:
        # sexagesimal units (9110 ...) have no conversion factor: PROJ cannot express them on an axis
        raise _fail(key, code, "not an EPSG angular unit usable for coordinates", where)
    return _unit_json(unit, "AngularUnit")


def _factor(unit: Any) -> float:
    """Conversion factor to SI of a PROJJSON unit (a dict or a short name like ``"metre"``)."""
    if isinstance(unit, dict):
        return float(unit["conversion_factor"])
    return {"metre": 1.0, "degree": 0.0174532925199433, "unity": 1.0, "radian": 1.0}.get(unit, float("nan"))


# ---------------------------------------------------------------------------------------------- citations


def _citation_names(citation: str | None) -> dict[str, str]:
    """Names that GDAL packs into GeogCitationGeoKey: ``GCS Name = x|Datum = y|Ellipsoid = z|Primem = w|``."""
    if not citation or "=" not in citation:
        return {}
    out = {}
    for part in citation.split("|"):
        key, sep, value = part.partition("=")
        if sep:
            out[key.strip().lower()] = value.strip()
    return out


# ---------------------------------------------------------------------------------------------- EPSG objects


def _from_epsg(code: int, name: str, where: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_epsg(code)
    except CRSError:
        raise _fail(name, code, "not a CRS code in the EPSG database of PROJ " + pyproj.proj_version_str,
                    where) from None


def _epsg_json(kind: Any, code: int, key: str, noun: str, where: str) -> dict[str, Any]:
    """The PROJJSON (without ``$schema``) of EPSG object ``code`` of ``kind`` (a pyproj class with
    ``from_epsg``: Datum, Ellipsoid, CoordinateOperation), or the typed error naming GeoKey ``key``."""
    try:
        doc = kind.from_epsg(code).to_json_dict()
    except CRSError:
        raise _fail(key, code, f"not {noun} code in the EPSG database", where) from None
    doc.pop("$schema", None)
    return doc


def _with_cs_unit(crs: pyproj.CRS, unit: dict[str, Any] | None) -> pyproj.CRS:
    """``crs`` with its axis unit replaced by ``unit`` (GDAL honours ProjLinearUnits over the EPSG unit)."""
    if unit is None:
        return crs
    doc = crs.to_json_dict()
    axes = doc.get("coordinate_system", {}).get("axis", [])
    if not axes or all(abs(_factor(a.get("unit")) - unit["conversion_factor"]) <= 1e-12 * unit["conversion_factor"]
                       for a in axes):
        return crs
    for axis in axes:
        axis["unit"] = unit
    doc.pop("id", None)
    return pyproj.CRS.from_json_dict(doc)


# ---------------------------------------------------------------------------------------------- geographic


def _epsg_datum(code: int, where: str) -> dict[str, Any]:
    """The PROJJSON of EPSG datum ``code`` (GeogGeodeticDatumGeoKey), or the typed error naming the key."""
    return _epsg_json(pyproj.crs.Datum, code, "geog_geodetic_datum", "a datum", where)


def _geodetic_datum(keys: Mapping[str, Any], angular: dict[str, Any] | None, where: str) -> dict[str, Any]:
    names = _citation_names(keys.get("geog_citation"))
    datum_code = _code(keys, "geog_geodetic_datum")
    if datum_code is not None and datum_code != USER_DEFINED:
        datum = _epsg_datum(datum_code, where)
        ellipsoid = datum.get("ellipsoid") or {}
        if _code(keys, "geog_ellipsoid") is not None:  # its code or, user-defined, its axis keys alone
            ellipsoid = _ellipsoid(keys, names, where)
        else:
            ellipsoid = _with_axis_keys(ellipsoid, keys)  # libgeotiff: the axis keys override the datum's
        pm = _prime_meridian(keys, angular, names, where)
        if ellipsoid != datum.get("ellipsoid") or (datum.get("type") == "DatumEnsemble" and pm is not None):
            datum = {"type": "GeodeticReferenceFrame", "name": _frame_name(datum), "ellipsoid": ellipsoid}
        elif datum.get("type") == "DatumEnsemble":
            return datum
        if pm is not None:
            datum["prime_meridian"] = pm
        return datum
    ellipsoid = _ellipsoid(keys, names, where)
    # GDAL names the datum from the citation only (GDAL-written files say "Unknown based on X ellipsoid")
    datum_name = names.get("datum") or "unnamed"
    datum = {"type": "GeodeticReferenceFrame", "name": datum_name, "ellipsoid": ellipsoid}
    pm = _prime_meridian(keys, angular, names, where)
    if pm is not None:
        datum["prime_meridian"] = pm
    return datum


def _frame_name(datum: Mapping[str, Any]) -> str:
    """The name GDAL gives a datum it rebuilds from EPSG parts (an ensemble's name without " ensemble")."""
    name = str(datum.get("name") or "unnamed")
    return name.removesuffix(" ensemble") if datum.get("type") == "DatumEnsemble" else name


def _ellipsoid(keys: Mapping[str, Any], names: dict[str, str], where: str) -> dict[str, Any]:
    code = _code(keys, "geog_ellipsoid")
    if code is not None and code != USER_DEFINED:
        ell = _epsg_json(pyproj.crs.Ellipsoid, code, "geog_ellipsoid", "an ellipsoid", where)
        return _with_axis_keys(ell, keys)
    a = _float(keys, "geog_semi_major_axis")
    if a is None or not a > 0:
        what = "geog_ellipsoid" if code is not None else "geog_geodetic_datum"
        value = code if code is not None else keys.get("geog_geodetic_datum", "absent")
        raise _fail(what, value, f"a user-defined datum/ellipsoid needs {key_label('geog_semi_major_axis')} and "
                    f"{key_label('geog_inv_flattening')} or {key_label('geog_semi_minor_axis')}", where)
    name = names.get("ellipsoid") or "unnamed"
    inv_f = _float(keys, "geog_inv_flattening")
    b = _float(keys, "geog_semi_minor_axis")
    if inv_f is not None:  # read after the semi-minor axis by libgeotiff, so it wins; 0 is a sphere
        return {"name": name, "semi_major_axis": a, "inverse_flattening": inv_f} if inv_f else {"name": name,
                                                                                                "radius": a}
    if b is not None and b > 0 and b != a:
        return {"name": name, "semi_major_axis": a, "semi_minor_axis": b}
    return {"name": name, "radius": a}


def _prime_meridian(keys: Mapping[str, Any], angular: dict[str, Any] | None, names: dict[str, str],
                    where: str) -> dict[str, Any] | None:
    code = _code(keys, "geog_prime_meridian")
    if code is not None and code != USER_DEFINED:
        try:
            pm = pyproj.crs.PrimeMeridian.from_epsg(code)
        except CRSError:
            raise _fail("geog_prime_meridian", code, "not a prime meridian code in the EPSG database", where) from None
        # in degrees, as GDAL states it (PROJ compares a grad-valued Paris meridian unequal to GDAL's otherwise)
        degrees = pm.longitude * pm.unit_conversion_factor / _factor("degree")
        return {"name": pm.name, "longitude": degrees}
    lon = _float(keys, "geog_prime_meridian_long")
    if lon is None or lon == 0:  # also a user-defined code without its longitude: libgeotiff's 0 (Greenwich)
        return None
    return {"name": names.get("primem") or "unnamed",
            "longitude": {"value": lon, "unit": angular or "degree"}}


#: Keys that override parts of an EPSG geographic CRS in libgeotiff's GTIFGetDefn: codes, then values.
_GCS_OVERRIDE_CODES = ("geog_geodetic_datum", "geog_ellipsoid", "geog_prime_meridian")
_GCS_OVERRIDE_VALUES = ("geog_semi_major_axis", "geog_semi_minor_axis", "geog_inv_flattening")


@functools.lru_cache(maxsize=64)
def _is_dynamic(code: int) -> bool:
    """GDAL's ``OGRSpatialReference::IsDynamic`` for EPSG ``code``: a dynamic datum, or a datum ensemble whose
    first member is one (WGS 84, ETRS89, ...)."""
    datum = pyproj.CRS.from_epsg(code).datum
    if datum is None:
        return False
    doc = datum.to_json_dict()
    if doc.get("type") == "DatumEnsemble":
        members = doc.get("members") or []
        ident = members[0].get("id", {}) if members else {}
        if ident.get("authority") != "EPSG":
            return False
        try:
            doc = pyproj.crs.Datum.from_epsg(ident["code"]).to_json_dict()
        except CRSError:
            return False
    return doc.get("type") == "DynamicGeodeticReferenceFrame"


def _overridden_geographic(crs: pyproj.CRS, keys: Mapping[str, Any], angular: dict[str, Any] | None,
                           where: str) -> pyproj.CRS:
    """EPSG geographic ``crs`` with the datum, ellipsoid, axis and prime meridian keys applied in libgeotiff's
    order (GTIFGetDefn): datum code -> its ellipsoid; ellipsoid code; semi-axes / inverse flattening values;
    prime meridian code (its longitude key only when the code is user-defined)."""
    doc = crs.to_json_dict()
    doc.pop("id", None)
    # a CRS's PROJJSON states its datum ensemble without a "type"
    datum = doc.pop("datum", None) or {"type": "DatumEnsemble", **doc.pop("datum_ensemble")}
    changed = False
    datum_code = _code(keys, "geog_geodetic_datum")
    if datum_code is not None and datum_code != USER_DEFINED:
        new = _epsg_datum(datum_code, where)
        changed = changed or new != datum
        datum = new
    if _code(keys, "geog_ellipsoid") is not None or datum_code == USER_DEFINED:
        # an ellipsoid code, or (user-defined code, or a user-defined datum, which has no ellipsoid of its own in
        # libgeotiff) the axis keys alone
        ellipsoid = _ellipsoid(keys, {}, where)
    else:
        ellipsoid = _with_axis_keys(dict(datum.get("ellipsoid") or {}), keys)
    # a user-defined datum code under an EPSG CRS: GDAL finds no datum name ("unnamed")
    datum_name = "unnamed" if datum_code == USER_DEFINED else _frame_name(datum)
    if ellipsoid != datum.get("ellipsoid") or datum_name != datum.get("name"):
        changed = True
        datum = {"type": "GeodeticReferenceFrame", "name": datum_name, "ellipsoid": ellipsoid,
                 **({"prime_meridian": datum["prime_meridian"]} if "prime_meridian" in datum else {})}
    pm_code = _code(keys, "geog_prime_meridian")
    if pm_code is not None:
        pm = _prime_meridian(keys, angular, {}, where)
        current = datum.get("prime_meridian")
        if pm != current and not (pm is None and current is None):
            if datum.get("type") == "DatumEnsemble":
                datum = {"type": "GeodeticReferenceFrame", "name": _frame_name(datum),
                         "ellipsoid": datum.get("ellipsoid")}
            if pm is None:
                datum.pop("prime_meridian", None)
            else:
                datum["prime_meridian"] = pm
            changed = True
    if not changed:
        return _with_cs_unit(crs, angular)
    doc["datum_ensemble" if datum.get("type") == "DatumEnsemble" else "datum"] = datum
    try:
        return _with_cs_unit(pyproj.CRS.from_json_dict(doc), angular)
    except CRSError as exc:
        raise _fail("geographic_type", keys.get("geographic_type", "absent"),
                    f"PROJ rejects the geographic CRS with its overriding keys ({exc})", where) from None


def _with_axis_keys(ellipsoid: dict[str, Any], keys: Mapping[str, Any]) -> dict[str, Any]:
    """``ellipsoid`` with GeogSemiMajorAxis/SemiMinorAxis/InvFlattening keys applied (libgeotiff overrides the
    ellipsoid's values with them, whatever its code)."""
    a, inv_f, b = (_float(keys, "geog_semi_major_axis"), _float(keys, "geog_inv_flattening"),
                   _float(keys, "geog_semi_minor_axis"))
    if a is None and inv_f is None and b is None:
        return ellipsoid
    old_a, old_b = _semi_axes(ellipsoid)
    major = a if a is not None and a > 0 else old_a
    name = ellipsoid.get("name", "unknown")
    if inv_f is not None:
        return ({"name": name, "semi_major_axis": major, "inverse_flattening": inv_f} if inv_f
                else {"name": name, "radius": major})
    minor = b if b is not None and b > 0 else old_b
    return ({"name": name, "semi_major_axis": major, "semi_minor_axis": minor} if minor != major
            else {"name": name, "radius": major})


def _semi_axes(ellipsoid: Mapping[str, Any]) -> tuple[float, float]:
    """``(a, b)`` in metres of a PROJJSON ellipsoid (EPSG ellipsoids state them in metres)."""

    def value(v: Any) -> float:
        return float(v["value"]) if isinstance(v, dict) else float(v)

    if "radius" in ellipsoid:
        r = value(ellipsoid["radius"])
        return r, r
    a = value(ellipsoid["semi_major_axis"])
    if "semi_minor_axis" in ellipsoid:
        return a, value(ellipsoid["semi_minor_axis"])
    inv_f = value(ellipsoid.get("inverse_flattening", 0.0))
    return a, (a * (1 - 1 / inv_f) if inv_f else a)


def _geographic_crs(keys: Mapping[str, Any], where: str, model: int | None = MODEL_GEOGRAPHIC) -> pyproj.CRS:
    """The geographic (base) CRS described by the Geog* keys, with GDAL's precedence between an EPSG code and
    the keys that override its parts."""
    angular = _angular_unit(keys, where)
    code = _code(keys, "geographic_type")
    if code is not None and code != USER_DEFINED:
        crs = _from_epsg(code, "geographic_type", where)
        if not crs.is_geographic:
            raise _fail("geographic_type", code, f"EPSG:{code} is a {crs.type_name}, not a geographic CRS", where)
        if model == MODEL_GEOGRAPHIC and _is_dynamic(code):
            # GDAL reports a dynamic EPSG geographic CRS (WGS 84, ETRS89 ...) as the registry defines it, whatever
            # datum, ellipsoid, prime meridian or unit keys follow it
            return crs
        if any(_code(keys, k) is not None for k in _GCS_OVERRIDE_CODES) or any(
                _float(keys, k) is not None for k in _GCS_OVERRIDE_VALUES):
            return _overridden_geographic(crs, keys, angular, where)
        # the base of a projected CRS keeps degree axes: GDAL re-imports angular units other than the degree
        # through WKT1, which states them on the prime meridian only
        return _with_cs_unit(crs, angular) if model == MODEL_GEOGRAPHIC else crs
    if (code is None and _code(keys, "geog_geodetic_datum") is None and _code(keys, "geog_ellipsoid") is None
            and keys.get("geog_semi_major_axis") is None):
        raise _fail("geographic_type", keys.get("geographic_type", "absent"),
                    "no geographic CRS, datum or ellipsoid is defined", where)
    names = _citation_names(keys.get("geog_citation"))
    unit = angular or "degree"
    doc = {
        "$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
        "type": "GeographicCRS",
        "name": names.get("gcs name") or (keys.get("geog_citation") if "=" not in str(
            keys.get("geog_citation", "=")) else None) or "unknown",
        "coordinate_system": {
            "subtype": "ellipsoidal",
            "axis": [
                {"name": "Geodetic latitude", "abbreviation": "Lat", "direction": "north", "unit": unit},
                {"name": "Geodetic longitude", "abbreviation": "Lon", "direction": "east", "unit": unit},
            ],
        },
    }
    datum = _geodetic_datum(keys, angular, where)
    doc["datum_ensemble" if datum.get("type") == "DatumEnsemble" else "datum"] = datum
    try:
        return pyproj.CRS.from_json_dict(doc)
    except CRSError as exc:
        raise _fail("geographic_type", code if code is not None else "absent",
                    f"PROJ rejects the user-defined geographic CRS ({exc})", where) from None


# ---------------------------------------------------------------------------------------------- projected


def _param(code: int, value: float, unit: Any) -> dict[str, Any]:
    return {"name": _P[code], "value": value, "unit": unit, "id": {"authority": "EPSG", "code": code}}


def _first(keys: Mapping[str, Any], names: tuple[str, ...], default: float) -> float:
    for name in names:
        value = _float(keys, name)
        if value is not None:
            return value
    return default


def _conversion(keys: Mapping[str, Any], angular: Any, linear: Any, where: str) -> dict[str, Any]:
    """PROJJSON conversion from ProjectionGeoKey (an EPSG conversion) or ProjCoordTransGeoKey + parameters."""
    projection = _code(keys, "projection")
    ct = _code(keys, "proj_coord_trans")
    if projection is not None and projection != USER_DEFINED and ct is None:
        # an EPSG conversion; libgeotiff lets ProjCoordTransGeoKey and its parameters replace it
        return _epsg_json(pyproj.crs.CoordinateOperation, projection, "projection", "a conversion", where)
    if ct is None:
        value = keys.get("projected_type", "absent")
        raise _fail("projected_type", value, f"a user-defined projected CRS needs {key_label('projection')} or "
                    f"{key_label('proj_coord_trans')} with its parameters", where)
    # ProjAzimuthAngleGeoKey is in GeogAzimuthUnitsGeoKey (degrees by default), not in the angular unit
    azimuth = _angular_unit(keys, where, "geog_azimuth_units") or "degree"
    units = {_ANGLE: angular, _LENGTH: linear, _SCALE_UNIT: "unity", _AZIMUTH: azimuth}
    if ct == CT_LAMBERT_CONF_CONIC_2SP and _float(keys, "proj_std_parallel2") is None:
        # GDAL's libgeotiff zeroes the first standard parallel when the second is absent
        keys = {**keys, "proj_std_parallel1": 0.0}
    if ct == CT_MERCATOR:
        sp1 = _float(keys, "proj_std_parallel1")
        lat0, k0 = _first(keys, _NAT_FIRST_LAT, 0.0), _first(keys, _NAT_SCALE, 1.0)
        if sp1 is None and lat0 != 0.0 and k0 == 1.0:
            sp1, lat0 = lat0, 0.0  # OGRSpatialReference::SetMercator: latitude of origin + scale 1 = Mercator (2SP)
        if sp1 is not None:  # Mercator (2SP) = variant B
            method, method_code = "Mercator (variant B)", 9805
            params = [_param(SP1, sp1, angular),
                      _param(LON_NAT, _first(keys, _NAT_FIRST_LON, 0.0), angular)]
            if lat0 != 0.0:  # GDAL's SetMercator2SP keeps a latitude of origin as an extra parameter
                params.insert(1, _param(LAT_NAT, lat0, angular))
        else:
            method, method_code = "Mercator (variant A)", 9804
            if lat0 != 0.0:  # with a scale factor: PROJ (and so GDAL) builds no CRS from it
                raise _fail("proj_nat_origin_lat", lat0, "Mercator (1SP) with a scale factor needs a latitude of "
                            "origin of 0 (give ProjStdParallel1GeoKey for Mercator 2SP)", where)
            params = [_param(LAT_NAT, _first(keys, _NAT_FIRST_LAT, 0.0), angular),
                      _param(LON_NAT, _first(keys, _NAT_FIRST_LON, 0.0), angular),
                      _param(K_NAT, _first(keys, _NAT_SCALE, 1.0), "unity")]
        params += [_param(FE, _first(keys, _FALSE_E, 0.0), linear), _param(FN, _first(keys, _FALSE_N, 0.0), linear)]
    elif ct == CT_POLAR_STEREOGRAPHIC:
        if all(_float(keys, name) is None for name in _NAT_FIRST_LAT):
            # GDAL takes 0 (a standard parallel on the equator): no pole to guess from
            raise _fail("proj_nat_origin_lat", "absent", "a polar stereographic projection needs its latitude "
                        "(ProjNatOriginLatGeoKey: the pole, or the latitude of true scale)", where)
        lat = _first(keys, _NAT_FIRST_LAT, 90.0)
        lon = _first(keys, ("proj_straight_vert_pole_long", *_NAT_FIRST_LON), 0.0)
        scale = _first(keys, _SCALE, 1.0)
        lat_deg = lat * _factor(angular) / _factor("degree")
        if scale == 1.0 and abs(abs(lat_deg) - 90.0) > 1e-8:  # OGRSpatialReference::SetPS
            method, method_code = "Polar Stereographic (variant B)", 9829
            params = [_param(LAT_TS, lat, angular), _param(LON_ORIGIN, lon, angular)]
        else:
            method, method_code = "Polar Stereographic (variant A)", 9810
            params = [_param(LAT_NAT, lat, angular), _param(LON_NAT, lon, angular), _param(K_NAT, scale, "unity")]
        params += [_param(FE, _first(keys, _FALSE_E, 0.0), linear), _param(FN, _first(keys, _FALSE_N, 0.0), linear)]
    elif ct in (CT_OBLIQUE_MERCATOR, CT_HOTINE_OBLIQUE_MERCATOR_AZIMUTH_CENTER):
        if keys.get("proj_rectified_grid_angle") is None:
            # libgeotiff's default for an absent ProjRectifiedGridAngleGeoKey: 90 (in the angular unit, as GDAL)
            keys = {**keys, "proj_rectified_grid_angle": 90.0}
        variant_b = ct == CT_HOTINE_OBLIQUE_MERCATOR_AZIMUTH_CENTER
        method, method_code = (("Hotine Oblique Mercator (variant B)", 9815) if variant_b
                               else ("Hotine Oblique Mercator (variant A)", 9812))
        params = [_param(8811, _first(keys, _NAT_FIRST_LAT, 0.0), angular),
                  _param(8812, _first(keys, _NAT_FIRST_LON, 0.0), angular),
                  _param(8813, _first(keys, ("proj_azimuth_angle",), 0.0), azimuth),
                  _param(8814, float(keys["proj_rectified_grid_angle"]), angular),
                  _param(8815, _first(keys, _SCALE, 1.0), "unity")]
        if variant_b:
            params += [_param(8816, _first(keys, _FALSE_E, 0.0), linear),
                       _param(8817, _first(keys, _FALSE_N, 0.0), linear)]
        else:
            params += [_param(FE, _first(keys, _FALSE_E, 0.0), linear),
                       _param(FN, _first(keys, _FALSE_N, 0.0), linear)]
    elif ct == CT_EQUIRECTANGULAR:
        method, method_code = "Equidistant Cylindrical", 1028
        lat0 = _first(keys, _NAT_FIRST_LAT, 0.0)
        params = [_param(SP1, _first(keys, ("proj_std_parallel1",), 0.0), angular),
                  _param(LON_NAT, _first(keys, _NAT_FIRST_LON, 0.0), angular)]
        if lat0 != 0.0:
            params.insert(0, _param(LAT_NAT, lat0, angular))
        params += [_param(FE, _first(keys, _FALSE_E, 0.0), linear), _param(FN, _first(keys, _FALSE_N, 0.0), linear)]
    elif ct in _METHODS:
        method, method_code, spec = _METHODS[ct]
        params = [_param(code, _first(keys, names, default), units[kind]) for code, names, default, kind in spec]
    else:
        name = _CT_NAMES.get(ct, "unknown")
        raise _fail("proj_coord_trans", ct, f"coordinate transformation {name} is not supported (supported: "
                    f"{sorted(_SUPPORTED_CT)})", where)
    method_doc: dict[str, Any] = {"name": method, "_north_pole": None}
    if ct == CT_POLAR_STEREOGRAPHIC:
        method_doc["_north_pole"] = lat > 0
    if method_code is not None:
        method_doc["id"] = {"authority": "EPSG", "code": method_code}
    return {"type": "Conversion", "name": "unknown", "method": method_doc, "parameters": params}


#: Keys whose presence makes GDAL build an EPSG projected CRS from libgeotiff's normalised definition (the
#: user keys overriding the code's parts) instead of importing the code as is (GTIFGetOGISDefnAsOSR).
_PCS_OVERRIDE_KEYS = ("geographic_type", "geog_geodetic_datum", "geog_ellipsoid")


def _epsg_projected_crs(code: int, keys: Mapping[str, Any], linear: dict[str, Any] | None,
                        where: str, *, from_parts: bool = False) -> pyproj.CRS:
    """EPSG ``code``, with the geographic keys that override its base CRS applied as GDAL applies them."""
    crs = _from_epsg(code, "projected_type", where)
    if not crs.is_projected:
        raise _fail("projected_type", code, f"EPSG:{code} is a {crs.type_name}, not a projected CRS", where)
    new_base = _pcs_base(crs, keys, where, from_parts=from_parts)
    if new_base is crs.geodetic_crs or new_base.equals(crs.geodetic_crs):
        return _with_cs_unit(crs, linear)
    doc = crs.to_json_dict()
    base_doc = new_base.to_json_dict()
    base_doc.pop("$schema", None)
    doc["base_crs"] = base_doc
    return _with_cs_unit(pyproj.CRS.from_json_dict(doc), linear)


def _pcs_base(crs: pyproj.CRS, keys: Mapping[str, Any], where: str, *, from_parts: bool = False) -> pyproj.CRS:
    """The base geographic CRS of EPSG projected ``crs`` as libgeotiff builds it from the keys: the code's own
    base, another EPSG GCS, or (user-defined GCS) the datum/ellipsoid keys alone, with the overriding keys.

    GDAL imports the code as is unless a GCS, datum or ellipsoid key is present; ``from_parts=True`` (GDAL builds
    the whole CRS from its parts, e.g. with ProjCoordTransGeoKey) applies every overriding key."""
    overridden = any(_code(keys, name) is not None for name in _PCS_OVERRIDE_KEYS) or (from_parts and (
        any(_code(keys, k) is not None for k in _GCS_OVERRIDE_CODES)
        or any(_float(keys, k) is not None for k in _GCS_OVERRIDE_VALUES)))
    if not overridden:
        return crs.geodetic_crs
    gcs = _code(keys, "geographic_type")
    if gcs == USER_DEFINED:
        return _geographic_crs(keys, where, MODEL_PROJECTED)
    base = crs.geodetic_crs if gcs is None else _from_epsg(gcs, "geographic_type", where)
    return _overridden_geographic(base, keys, None, where)


def _local_cs(name: str, unit: dict[str, Any] | None) -> pyproj.CRS:
    """GDAL's ``LOCAL_CS`` (an engineering CRS) for keys that name no usable projection or model."""
    if unit is None:
        unit_wkt = 'UNIT["unknown",1]'
    else:
        ident = unit.get("id")
        auth = f',AUTHORITY["{ident["authority"]}","{ident["code"]}"]' if isinstance(ident, dict) else ""
        unit_wkt = f'UNIT["{_wkt_text(unit["name"])}",{unit["conversion_factor"]!r}{auth}]'
    return pyproj.CRS.from_wkt(f'LOCAL_CS["{_wkt_text(name)}",{unit_wkt},AXIS["Easting",EAST],AXIS["Northing",NORTH]]')


def _wkt_text(text: str) -> str:
    return text.replace('"', '""')


def _projected_crs(keys: Mapping[str, Any], where: str, notes: list[str] | None = None) -> pyproj.CRS:
    notes = [] if notes is None else notes
    unit_code = _code(keys, "proj_linear_units")
    if unit_code is not None and unit_code != USER_DEFINED and unit_code not in _units("linear"):
        # libgeotiff ignores a unit code it does not know (GDAL then keeps the CRS's own unit)
        notes.append(f"{key_label('proj_linear_units')}={unit_code} is not an EPSG linear unit; it is ignored, as "
                     "GDAL ignores it")
        keys = {k: v for k, v in keys.items() if k != "proj_linear_units"}
    linear = _linear_unit(keys, "proj_linear_units", "proj_linear_unit_size", where)
    code = _code(keys, "projected_type")
    ct = _code(keys, "proj_coord_trans")
    projection = _code(keys, "projection")
    if code is not None and code != USER_DEFINED and ct is None and projection is not None:
        # with a ProjectionGeoKey GDAL builds the CRS from its parts: every overriding key applies to the base,
        # the conversion stays the code's (libgeotiff takes the PCS's projection over the key's)
        return _epsg_projected_crs(code, keys, linear, where, from_parts=True)
    if code is not None and code != USER_DEFINED and ct is not None:
        # libgeotiff: ProjCoordTransGeoKey and its parameter keys replace the EPSG code's projection
        pcs = _from_epsg(code, "projected_type", where)
        axes = pcs.coordinate_system.to_json_dict().get("axis", []) if pcs.coordinate_system else []
        unit = linear or (axes[0].get("unit") if axes else None) or "metre"
        if ct not in _SUPPORTED_CT:
            notes.append(f"{key_label('proj_coord_trans')}={ct} cannot be mapped to a PROJ method: the CRS is "
                         "the local (engineering) CRS GDAL reports for it, without the projection")
            return _local_cs(pcs.name, unit if isinstance(unit, dict) else _unit_json(_units("linear")[9001],
                                                                                      "LinearUnit"))
        return _assemble_projected(keys, _pcs_base(pcs, keys, where, from_parts=True), unit, ct, pcs.name, where)
    if code is not None and code != USER_DEFINED:
        try:
            return _epsg_projected_crs(code, keys, linear, where)
        except UnsupportedTiffError:
            if _code(keys, "proj_coord_trans") is not None or _code(keys, "projection") is not None:
                raise
            try:
                pyproj.CRS.from_epsg(code)
            except CRSError:
                # GDAL: an unknown projected CRS code leaves an unnamed LOCAL_CS
                notes.append(f"{key_label('projected_type')}={code} is not a CRS code in the EPSG database of PROJ "
                             f"{pyproj.proj_version_str}: the CRS is the local (engineering) CRS GDAL reports")
                return _local_cs("unnamed", linear or _unit_json(_units("linear")[9001], "LinearUnit"))
            raise
    if (projection is None or projection == USER_DEFINED) and (ct is None or ct not in _SUPPORTED_CT):
        # GDAL: a projected model whose projection cannot be built becomes a LOCAL_CS named after the
        # PCS (or GT) citation, in the linear unit (metre by default)
        name = keys.get("proj_citation") or keys.get("citation") or "unnamed"
        if ct is not None and notes is not None:
            notes.append(f"{key_label('proj_coord_trans')}={ct} ({_CT_NAMES.get(ct, 'unknown method')}) "
                         f"{'cannot be mapped to a PROJ method' if ct in _CT_NAMES else 'is not a GeoTIFF method'}"
                         ": the CRS is the local (engineering) CRS GDAL reports for it, without the projection")
        elif notes is not None:
            notes.append(f"the projected CRS names no projection ({key_label('projection')} / "
                         f"{key_label('proj_coord_trans')} absent): the CRS is the local (engineering) CRS GDAL "
                         "reports for it")
        return _local_cs(str(name), linear or _unit_json(_units("linear")[9001], "LinearUnit"))
    names = _citation_names(keys.get("citation"))
    citation = keys.get("citation") or keys.get("proj_citation")
    name = names.get("pcs name") or (citation if citation and "=" not in citation else "unknown")
    return _assemble_projected(keys, _geographic_crs(keys, where, MODEL_PROJECTED), linear or "metre", ct, name,
                               where)


def _assemble_projected(keys: Mapping[str, Any], base: pyproj.CRS, unit: Any, ct: int | None, name: str,
                        where: str) -> pyproj.CRS:
    """A projected CRS on ``base`` whose conversion the projection keys define, with axes in ``unit``."""
    base_doc = base.to_json_dict()
    base_doc.pop("$schema", None)
    base_axes = base_doc.get("coordinate_system", {}).get("axis", [])
    angular = _angular_unit(keys, where) or (base_axes[0].get("unit", "degree") if base_axes else "degree")
    conversion = _conversion(keys, angular, unit, where)
    north_pole = conversion["method"].pop("_north_pole", None)
    axes = [
        {"name": "Easting", "abbreviation": "E", "direction": "east", "unit": unit},
        {"name": "Northing", "abbreviation": "N", "direction": "north", "unit": unit},
    ]
    if ct == CT_TRANSV_MERCATOR_SOUTH_ORIENTED:  # GDAL's SetTMSO: axes pointing west and south
        axes[0]["direction"], axes[1]["direction"] = "west", "south"
    if north_pole is not None:  # GDAL's SetPS: PROJ's polar Cartesian CS, as in EPSG:3995 / EPSG:3031
        toward = "south" if north_pole else "north"
        axes[0].update(direction=toward, meridian={"longitude": 90})
        axes[1].update(direction=toward, meridian={"longitude": 180 if north_pole else 0})
    doc = {
        "$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
        "type": "ProjectedCRS",
        "name": name,
        "base_crs": base_doc,
        "conversion": conversion,
        "coordinate_system": {"subtype": "Cartesian", "axis": axes},
    }
    try:
        return pyproj.CRS.from_json_dict(doc)
    except CRSError as exc:
        raise _fail("proj_coord_trans", keys.get("proj_coord_trans", keys.get("projection")),
                    f"PROJ rejects the user-defined projected CRS ({exc})", where) from None


# ---------------------------------------------------------------------------------------------- entry points


def model_type(keys: Mapping[str, Any]) -> int | None:
    """GTModelTypeGeoKey, inferred from the other keys when absent (as libgeotiff does)."""
    value = _code(keys, "model_type")
    if value is not None:
        return value
    if _code(keys, "projected_type") is not None or _code(keys, "proj_coord_trans") is not None:
        return MODEL_PROJECTED
    if any(_code(keys, k) is not None for k in ("geographic_type", "geog_geodetic_datum", "geog_ellipsoid")):
        return MODEL_GEOGRAPHIC
    return None


_LOCAL_METRE = ('LOCAL_CS["unnamed",UNIT["metre",1,AUTHORITY["EPSG","9001"]],'
                'AXIS["Easting",EAST],AXIS["Northing",NORTH]]')


def crs_from_geokeys(keys: Mapping[str, Any], *, where: str = "", compound: bool = False,
                     notes: list[str] | None = None) -> pyproj.CRS | None:
    """The CRS the GeoKeys describe, or None when they describe none.

    ``where`` names the file/IFD in error messages. With ``compound=True`` a vertical CRS
    (``VerticalCSTypeGeoKey``) is combined into a ``CompoundCRS``; by default only the horizontal CRS is
    returned, as GDAL and rasterio report it. ``notes`` collects what was read lossily, as GDAL reads it
    (a projection PROJ cannot express becomes a local CRS).
    """
    if not keys:
        return None
    try:
        return _crs_from_geokeys(keys, where, compound, notes)
    except UnsupportedTiffError as exc:
        if where and where not in str(exc):
            raise UnsupportedTiffError(f"{where}: {exc}") from None
        raise


ESRI_PE_PREFIX = "ESRI PE String = "


def _user_model_crs(keys: Mapping[str, Any], where: str, notes: list[str] | None) -> pyproj.CRS:
    """GDAL's reading of a model type that is neither projected, geographic nor geocentric (32767 = user-defined,
    as ESRI software and GEOS satellite products write it): the WKT of an ``ESRI PE String = ...``
    PCSCitationGeoKey, else a LOCAL_CS named after GTCitationGeoKey (or GeogCitationGeoKey)."""
    citation = keys.get("proj_citation")
    if isinstance(citation, str) and ESRI_PE_PREFIX in citation:
        wkt = citation[citation.index(ESRI_PE_PREFIX) + len(ESRI_PE_PREFIX):].strip().rstrip("|")
        try:
            return pyproj.CRS.from_wkt(wkt)
        except CRSError as exc:
            raise _fail("proj_citation", wkt[:80] + ("..." if len(wkt) > 80 else ""),
                        f"the ESRI PE string is not a WKT that PROJ reads ({exc})", where) from None
    name = keys.get("citation") or keys.get("geog_citation") or "unnamed"
    if notes is not None:
        notes.append(f"{key_label('model_type')}={keys.get('model_type')} is not a projected, geographic or "
                     "geocentric model and no ESRI PE string (PCSCitationGeoKey) defines the CRS: the CRS is the "
                     "local (engineering) CRS GDAL reports for it")
    code = _code(keys, "proj_linear_units")
    unit = _linear_unit(keys, "proj_linear_units", "proj_linear_unit_size", where) if code not in (
        None, USER_DEFINED) else None
    return _local_cs(str(name), unit)


def _crs_from_geokeys(keys: Mapping[str, Any], where: str, compound: bool,
                      notes: list[str] | None = None) -> pyproj.CRS | None:
    mtype = model_type(keys)
    pcs = _code(keys, "projected_type")
    if mtype == USER_DEFINED and pcs is not None and pcs != USER_DEFINED:
        mtype = MODEL_PROJECTED  # GDAL ticket #3019: a user-defined model with an EPSG projected CRS
    if mtype is None:
        horizontal = None
    elif mtype == MODEL_PROJECTED:
        if pcs is None and _code(keys, "projection") is None and _code(keys, "proj_coord_trans") is None:
            # GDAL reads a projected model without any projection as an unnamed local (engineering) CRS
            horizontal = pyproj.CRS.from_wkt(_LOCAL_METRE)
        else:
            horizontal = _projected_crs(keys, where, notes)
    elif mtype not in (MODEL_GEOGRAPHIC, MODEL_GEOCENTRIC):
        horizontal = _user_model_crs(keys, where, notes)
    elif mtype == MODEL_GEOGRAPHIC:
        pcs = _code(keys, "projected_type")
        if _code(keys, "geographic_type") is None and pcs is not None and pcs != USER_DEFINED:
            # a geographic model that only names a projected CRS: GDAL uses that CRS's base
            horizontal = _from_epsg(pcs, "projected_type", where).geodetic_crs
        else:
            horizontal = _geographic_crs(keys, where)
    elif mtype == MODEL_GEOCENTRIC:
        code = _code(keys, "geographic_type")
        if code is None or code == USER_DEFINED:
            raise _fail("model_type", mtype, "a geocentric model needs an EPSG code in "
                        f"{key_label('geographic_type')}; user-defined geocentric CRSs are not supported", where)
        horizontal = _from_epsg(code, "geographic_type", where)
    if not compound:
        return horizontal
    vertical = vertical_crs_from_geokeys(keys, where=where)
    if vertical is None or horizontal is None:
        return horizontal or vertical
    return pyproj.crs.CompoundCRS(name=f"{horizontal.name} + {vertical.name}", components=[horizontal, vertical])


def vertical_crs_from_geokeys(keys: Mapping[str, Any], *, where: str = "") -> pyproj.CRS | None:
    """The vertical CRS of VerticalCSTypeGeoKey / VerticalDatumGeoKey / VerticalUnitsGeoKey, or None."""
    code = _code(keys, "vertical")
    if code is not None and code != USER_DEFINED:
        crs = _from_epsg(code, "vertical", where)
        if not crs.is_vertical:
            raise _fail("vertical", code, f"EPSG:{code} is a {crs.type_name}, not a vertical CRS", where)
        unit = _linear_unit(keys, "vertical_units", "vertical_units", where) if _code(
            keys, "vertical_units") not in (None, USER_DEFINED) else None
        return _with_cs_unit(crs, unit)
    datum_code = _code(keys, "vertical_datum")
    if code is None and datum_code is None:
        return None
    if datum_code is None or datum_code == USER_DEFINED:
        raise _fail("vertical_datum", keys.get("vertical_datum", "absent"),
                    "a user-defined vertical CRS needs an EPSG vertical datum code", where)
    datum = _epsg_json(pyproj.crs.Datum, datum_code, "vertical_datum", "a datum", where)
    unit = (_linear_unit(keys, "vertical_units", "vertical_units", where)
            if _code(keys, "vertical_units") not in (None, USER_DEFINED) else None) or "metre"
    citation = keys.get("vertical_citation")
    doc = {
        "$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
        "type": "VerticalCRS",
        "name": citation or "unknown",
        "datum": datum,
        "coordinate_system": {"subtype": "vertical", "axis": [
            {"name": "Gravity-related height", "abbreviation": "H", "direction": "up", "unit": unit}]},
    }
    try:
        return pyproj.CRS.from_json_dict(doc)
    except CRSError as exc:
        raise _fail("vertical_datum", datum_code, f"PROJ rejects the vertical CRS ({exc})", where) from None


_AUTH_RE = re.compile(r"^[A-Z]+:[0-9]+$")


def crs_code(crs: pyproj.CRS) -> str | None:
    """``EPSG:32633`` when the CRS carries an authority identifier of its own (no database search)."""
    ident = crs.to_json_dict().get("id")
    if isinstance(ident, dict) and "authority" in ident and "code" in ident:
        code = f"{ident['authority']}:{ident['code']}"
        return code if _AUTH_RE.match(code) else None
    return None


# ---------------------------------------------------------------------------------------------- raw keys

#: GeoKeyDirectoryTag's TIFFTagLocation of a value stored in the directory itself (a SHORT).
_LOCATION_SHORT = 0


def parse_key_directory(directory: tuple[int, ...] | None,
                        doubles: tuple[float, ...] | None) -> tuple[int | None, dict[int, Any]]:
    """``(KeyRevisionMinor, {key id: value})`` from the raw GeoKeyDirectoryTag and GeoDoubleParamsTag.

    SHORT values come back as ``int``, DOUBLE values as a tuple of floats; ASCII values (in
    ``GeoTags.geo_keys``) as ``None``. Malformed directories give ``(None, {})``: the named keys are then
    all there is.
    """
    if not directory or len(directory) < 4:
        return None, {}
    minor, count = int(directory[2]), int(directory[3])
    out: dict[int, Any] = {}
    for i in range(count):
        entry = directory[4 + 4 * i: 8 + 4 * i]
        if len(entry) < 4:
            break
        key, location, n, value = (int(v) for v in entry)
        if location == _LOCATION_SHORT:
            out[key] = value
        elif location == Tag.GEO_DOUBLE_PARAMS and doubles is not None and value + n <= len(doubles):
            out[key] = tuple(float(v) for v in doubles[value: value + n])
        else:
            out[key] = None
    return minor, out


def _to_wgs84(crs: pyproj.CRS, params: tuple[float, ...]) -> pyproj.CRS:
    """``crs`` bound to WGS 84 by a TOWGS84 Helmert transformation (Position Vector, as GDAL reads it)."""
    values = list(params) + [0.0] * (7 - len(params))
    arcsec = {"type": "AngularUnit", "name": "arc-second", "conversion_factor": 4.84813681109536e-06}
    ppm = {"type": "ScaleUnit", "name": "parts per million", "conversion_factor": 1e-06}
    spec = [(8605, "X-axis translation", "metre"), (8606, "Y-axis translation", "metre"),
            (8607, "Z-axis translation", "metre"), (8608, "X-axis rotation", arcsec),
            (8609, "Y-axis rotation", arcsec), (8610, "Z-axis rotation", arcsec),
            (8611, "Scale difference", ppm)]
    source = crs.to_json_dict()
    source.pop("$schema", None)
    target = pyproj.CRS.from_epsg(4326).to_json_dict()
    target.pop("$schema", None)
    doc = {
        "$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
        "type": "BoundCRS",
        "source_crs": source,
        "target_crs": target,
        "transformation": {
            "name": f"Transformation from {crs.name} to WGS84",
            "method": {"name": "Position Vector transformation (geog2D domain)",
                       "id": {"authority": "EPSG", "code": 9606}},
            "parameters": [{"name": name, "value": value, "unit": unit, "id": {"authority": "EPSG", "code": code}}
                           for (code, name, unit), value in zip(spec, values)],
        },
    }
    return pyproj.CRS.from_json_dict(doc)


def _user_defined_datum(keys: Mapping[str, Any], crs: pyproj.CRS) -> bool:
    """True when the datum comes from ellipsoid keys rather than an EPSG GCS or datum code."""
    if _code(keys, "geographic_type") not in (None, USER_DEFINED):
        return False
    if _code(keys, "geog_geodetic_datum") not in (None, USER_DEFINED):
        return False
    if model_type(keys) == MODEL_PROJECTED and _code(keys, "projected_type") not in (None, USER_DEFINED):
        return False
    return crs.is_geographic or crs.is_projected


def crs_from_geotags(geo: Any, *, where: str = "", notes: list[str] | None = None) -> pyproj.CRS | None:
    """The CRS of one IFD's ``GeoTags`` exactly as GDAL (and so rasterio) reports it by default.

    On top of ``crs_from_geokeys``: ``GeogTOWGS84GeoKey`` binds a user-defined datum to WGS 84 (GDAL
    ignores it next to an EPSG datum), and a vertical CRS makes a compound CRS only in GeoTIFF 1.1 files
    (KeyRevisionMinor >= 1), GDAL's default (``GTIFF_REPORT_COMPD_CS``). Use ``vertical_crs_from_geokeys``
    for the vertical part of a GeoTIFF 1.0 file.
    """
    minor, raw = parse_key_directory(geo.key_directory, geo.double_params)
    keys = dict(geo.geo_keys)
    angle = raw.get(GeoKey.PROJ_RECTIFIED_GRID_ANGLE)
    if isinstance(angle, tuple) and angle:
        keys["proj_rectified_grid_angle"] = angle[0]
    compound = minor is not None and minor >= 1
    crs = crs_from_geokeys(keys, where=where, compound=False, notes=notes)
    if crs is None:
        return None
    towgs84 = raw.get(GeoKey.GEOG_TOWGS84)
    if GeoKey.GEOG_TOWGS84 in raw and (not isinstance(towgs84, tuple) or len(towgs84) not in (3, 7)):
        raise _fail("GeogTOWGS84GeoKey", towgs84, "needs 3 or 7 DOUBLE values", where)
    if towgs84 and _user_defined_datum(keys, crs):
        crs = _to_wgs84(crs, towgs84)
    if compound:
        crs = _with_vertical(crs, keys, where)
    return crs


def _with_vertical(horizontal: pyproj.CRS, keys: Mapping[str, Any], where: str) -> pyproj.CRS:
    code = _code(keys, "vertical")
    if code is not None and code != USER_DEFINED:
        try:
            candidate = pyproj.CRS.from_epsg(code)
        except CRSError:
            candidate = None
        if candidate is not None and candidate.is_geographic and len(candidate.axis_info) == 3:
            # GDAL writes a geographic 3D CRS (e.g. EPSG:4979) as VerticalCSTypeGeoKey on its 2D base
            base = candidate.sub_crs_list[0] if candidate.sub_crs_list else candidate.geodetic_crs
            if base is not None and horizontal.is_geographic and (
                    horizontal.datum == candidate.datum):
                return candidate
    vertical = vertical_crs_from_geokeys(keys, where=where)
    if vertical is None:
        return horizontal
    return pyproj.crs.CompoundCRS(name=f"{horizontal.name} + {vertical.name}", components=[horizontal, vertical])
