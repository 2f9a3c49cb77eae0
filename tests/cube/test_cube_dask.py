"""Scale-out: the cube scanned on a dask.distributed ``LocalCluster`` (two worker processes) gives exactly the
manifest, coordinates and source stamps of the local build; failures come back per file."""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.cube import write_grid
from tests.support.helpers import file_url, make_registry
from virtual_geotiff.cube import open_virtual_cube

distributed = pytest.importorskip("distributed")
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")]


def test_dask_distributed_build_equals_local(tmp_path):
    paths = write_grid(tmp_path, 2, 2, ("20240101", "20240102", "20240103"))
    broken = tmp_path / "scene_20240104_r0_c0.tif"
    broken.write_bytes(b"not a tiff")
    urls = [*paths, broken]
    kwargs = dict(stack_values=r"_(\d{8})_", stack_format="%Y%m%d", on_error="skip")
    local = open_virtual_cube(urls, make_registry(), **kwargs)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = open_virtual_cube(urls, make_registry(), executor=client, batch_size=3, **kwargs)
        workers = {w for w in client.run(lambda: __import__("os").getpid()).values()}
    assert len(workers) == 2
    a, b = local.dataset["data"].data, remote.dataset["data"].data
    np.testing.assert_array_equal(a.manifest._paths, b.manifest._paths)
    np.testing.assert_array_equal(a.manifest._offsets, b.manifest._offsets)
    np.testing.assert_array_equal(a.manifest._lengths, b.manifest._lengths)
    assert a.metadata.to_dict() == b.metadata.to_dict()
    assert local.dataset.drop_vars("data").identical(remote.dataset.drop_vars("data"))
    assert remote.sources == local.sources
    assert list(remote.failed) == [file_url(broken)] and remote.failed == local.failed
