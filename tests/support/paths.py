"""Where the checkout and the shared corpus are, in one place, so moving a test file never breaks a path."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository root (tests/support/paths.py -> two folders up)."""

CORPUS = REPO.parent / "shared" / "corpus"
"""``../shared/corpus`` beside the checkout: real-world files; tests that need it skip when it is absent."""


def corpus_files(keep: Callable[[Path], bool]) -> list[Path]:
    """Corpus files (``<project>/<file>``, sorted) for which ``keep`` is true; a file ``keep`` raises on is left
    out (the corpus holds deliberately broken files, so tifffile's log is quiet meanwhile). Empty without
    the corpus."""
    if not CORPUS.is_dir():
        return []
    log = logging.getLogger("tifffile")
    level = log.level
    log.setLevel(logging.CRITICAL)
    found = []
    try:
        for path in sorted(CORPUS.glob("*/*")):
            try:
                if keep(path):
                    found.append(path)
            except Exception:
                continue
    finally:
        log.setLevel(level)
    return found
