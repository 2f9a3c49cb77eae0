"""Whether Icechunk's span tracing is on: it decides how references are cheapest to write.

Icechunk installs its tracing subscriber once, when ``icechunk`` is imported, unless ``ICECHUNK_NO_LOGS`` is
set at that moment. The subscriber has two layers: a console layer (filtered by ``ICECHUNK_LOG`` and
``set_logs_filter``) and an error-span layer that records every span, unfiltered, formatting its arguments
so that errors can list where they happened. Setting a virtual reference opens spans per reference, and
the error-span layer formats their arguments, the array's whole ``zarr.json`` among them: with the
subscriber installed each reference costs many times more, and more the larger that metadata is
(measurements in docs/performance.md).
Nothing can remove the subscriber after import (``set_logs_filter`` only filters the console), so the
publisher adapts instead:

- tracing on: references are set under placeholder metadata (shape, dtype, chunk grid), the real metadata
  follows (Icechunk then regroups the array's pending references once, which costs far less than the
  formatting it saves);
- tracing off: the real metadata is written first and references are set under it (no regrouping).

Both paths store identical results. The library does not set ``ICECHUNK_NO_LOGS`` itself: that would
silence Icechunk's warnings and strip the context from its errors for the whole process, which a library
import must not do; ``publish`` warns instead (``SlowIcechunkLogsWarning``), and the command line, which
owns its process, sets it unless the user configured Icechunk's logs.
"""

from __future__ import annotations

import functools

import icechunk as ic

#: A branch name no repository has: looking it up is the cheapest way to make Icechunk raise an error.
_PROBE_BRANCH = "virtual-geotiff-tracing-probe"


@functools.cache
def span_tracing_active() -> bool:
    """True when Icechunk's error-span layer is installed (its default), i.e. every span is formatted.

    Observed, not inferred from the environment (``ICECHUNK_NO_LOGS`` only counts if it was set before
    ``icechunk`` was imported): an ``IcechunkError`` lists the spans it was raised in (``icechunk::...``)
    exactly when the layer is installed. One lookup of a missing branch in an in-memory repository, once
    per process (cached): it touches no storage. Anything unexpected answers True, the path that is correct
    and fast enough in both cases.
    """
    try:
        ic.Repository.create(ic.in_memory_storage()).lookup_branch(_PROBE_BRANCH)
    except ic.IcechunkError as err:
        return "icechunk::" in str(err)
    except Exception:  # a probe: any other failure means "assume tracing"
        return True
    return True
