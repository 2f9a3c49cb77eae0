"""Where the checkout and the shared corpus are, in one place, so moving a test file never breaks a path."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The repository root (tests/support/paths.py -> two folders up)."""

CORPUS = REPO.parent / "shared" / "corpus"
"""``../shared/corpus`` beside the checkout: real-world files; tests that need it skip when it is absent."""
