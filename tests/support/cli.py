"""Run the ``virtual-geotiff`` command the way users run it: a separate Python process, output captured as text.

A subprocess (not ``cli.main()`` in-process) so the tests see exit codes, stderr and stdout exactly as a shell
does, with the module's import-time behaviour and no state shared with the test process.
"""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str, stdin: str | None = None, env: dict[str, str] | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m virtual_geotiff.cli *args``; ``env`` adds to (never replaces) this process's environment."""
    return subprocess.run([sys.executable, "-m", "virtual_geotiff.cli", *args], capture_output=True, text=True,
                          timeout=timeout, input=stdin, env={**os.environ, **(env or {})})
