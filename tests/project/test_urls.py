"""``resolve_relative``: paths named inside files never lead outside the allowed prefix."""

from __future__ import annotations

import obstore
import pytest
from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import MemoryStore

from virtual_geotiff import UnsafeUrlError
from virtual_geotiff.urls import is_within, registered_prefix, resolve_relative, vsi_to_url

BASE = "s3://bucket/data/2024/mosaic.vrt"


@pytest.fixture
def registry():
    return ObjectStoreRegistry({"s3://bucket/data": MemoryStore(), "file:///srv/geo": MemoryStore()})


@pytest.mark.parametrize("reference, expected", [
    ("a.tif", "s3://bucket/data/2024/a.tif"),
    ("./tiles/a.tif", "s3://bucket/data/2024/tiles/a.tif"),
    ("tiles//b.tif", "s3://bucket/data/2024/tiles/b.tif"),
    ("tiles/../c.tif", "s3://bucket/data/2024/c.tif"),
    ("name%20with%20space.tif", "s3://bucket/data/2024/name%20with%20space.tif"),
])
def test_relative_references_resolve_in_the_directory(registry, reference, expected):
    assert resolve_relative(BASE, reference, registry) == expected
    assert resolve_relative(BASE, reference) == expected  # without a registry: same rule


@pytest.mark.parametrize("reference", [
    "../other.tif",  # climbs above the VRT's directory (the default root)
    "tiles/../../other.tif",
    "%2e%2e/other.tif",  # percent-encoded ..
    "tiles/..%2f..%2fother.tif",  # encoded separator
    "..\\other.tif",  # backslash
    "a.tif?x-id=GetObject",  # query
    "a.tif#frag",
    "a\x00.tif",
    "",
    "   ",
])
def test_escapes_and_odd_characters_are_refused(registry, reference):
    with pytest.raises(UnsafeUrlError):
        resolve_relative(BASE, reference, registry)


@pytest.mark.parametrize("reference", [
    "/etc/passwd", "file:///etc/passwd", "s3://other-bucket/x.tif", "s3://bucket/data/2024/a.tif",
    "/vsis3/bucket/data/2024/a.tif", "/vsicurl/https://example.com/x.tif", "https://example.com/x.tif",
])
def test_absolute_references_are_refused_by_default(registry, reference):
    with pytest.raises(UnsafeUrlError, match="absolute"):
        resolve_relative(BASE, reference, registry, what="SourceFilename")


def test_absolute_references_opt_in_stay_inside_the_grant(registry):
    ok = resolve_relative(BASE, "s3://bucket/data/2023/x.tif", registry, allow_absolute=True, root="registered")
    assert ok == "s3://bucket/data/2023/x.tif"
    assert resolve_relative(BASE, "/vsis3/bucket/data/2024/x.tif", registry, allow_absolute=True) == (
        "s3://bucket/data/2024/x.tif")
    assert resolve_relative("file:///srv/geo/a/m.vrt", "/srv/geo/a/t.tif", registry, allow_absolute=True) == (
        "file:///srv/geo/a/t.tif")
    for reference in ("s3://other-bucket/x.tif", "s3://bucket/secret/x.tif", "/vsis3/bucket/data/../secret.tif",
                      "s3://bucket/data/2023/x.tif"):  # the last: outside the default root (the directory)
        with pytest.raises(UnsafeUrlError):
            resolve_relative(BASE, reference, registry, allow_absolute=True)
    with pytest.raises(UnsafeUrlError):
        resolve_relative("file:///srv/geo/a/m.vrt", "/etc/passwd", registry, allow_absolute=True, root="registered")


def test_registered_root_allows_dotdot_within_the_grant_only(registry):
    assert resolve_relative(BASE, "../2023/x.tif", registry, root="registered") == "s3://bucket/data/2023/x.tif"
    with pytest.raises(UnsafeUrlError, match="outside the allowed prefix"):
        resolve_relative(BASE, "../../secret.tif", registry, root="registered")
    with pytest.raises(UnsafeUrlError, match="climbs above"):
        resolve_relative(BASE, "../../../../x.tif", registry, root="registered")
    with pytest.raises(UnsafeUrlError, match="outside the registered prefix"):
        resolve_relative(BASE, "x.tif", registry, root="s3://bucket")
    assert resolve_relative(BASE, "../2023/x.tif", registry, root="s3://bucket/data/") == (
        "s3://bucket/data/2023/x.tif")
    with pytest.raises(UnsafeUrlError, match="not served"):
        resolve_relative("s3://elsewhere/x.vrt", "a.tif", registry)
    with pytest.raises(UnsafeUrlError, match="needs the registry"):
        resolve_relative(BASE, "a.tif", root="registered")


def test_sidecar_names_resolve_next_to_the_file(registry):
    base = "file:///srv/geo/a/scene.tif"
    assert resolve_relative(base, "scene.tif.ovr", registry, what="overview sidecar") == "file:///srv/geo/a/scene.tif.ovr"


def test_helpers():
    registry = ObjectStoreRegistry({"s3://bucket/data": MemoryStore(), "s3://bucket": MemoryStore()})
    assert registered_prefix("s3://bucket/data/x/y.tif", registry) == "s3://bucket/data"
    assert registered_prefix("s3://bucket/datax/y.tif", registry) == "s3://bucket"
    assert registered_prefix("s3://nobucket/y.tif", registry) is None
    assert is_within("s3://b/a/x", "s3://b/a") and not is_within("s3://b/ab/x", "s3://b/a")
    assert not is_within("s3://c/a/x", "s3://b/a")
    assert vsi_to_url("/vsigs/b/k.tif") == "gs://b/k.tif" and vsi_to_url("/data/x.tif") is None


def test_resolved_url_reads_through_the_registry():
    """The result is a URL the same registry resolves (no rewriting of the store's path space)."""
    store = MemoryStore()
    obstore.put(store, "dir/tiles/a.tif", b"abc")
    registry = ObjectStoreRegistry({"memory://m": store})
    url = resolve_relative("memory://m/dir/x.vrt", "tiles/a.tif", registry)
    found, path = registry.resolve(url)
    assert bytes(obstore.get(found, path).bytes()) == b"abc"
