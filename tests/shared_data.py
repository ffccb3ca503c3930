"""The one way tests reach the evaluation data in ``../shared`` (beside the checkout).

A plain ``git clone`` has no ``../shared``; every test that reads it goes through
:func:`shared_file` (inside a test or fixture) or :func:`needs_shared` (a mark), so it
skips with a reason that names the missing path instead of failing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEED = SHARED / "corpus" / "seed" / "industrial-bank-shanxi.txt"
SQUAD = SHARED / "data" / "squad-v1.1-dev"


def _reason(path: Path) -> str:
    relative = path.relative_to(SHARED.parent).as_posix()
    return f"needs ../{relative} (evaluation data beside the checkout); absent in a plain clone"


def needs_shared(path: Path) -> pytest.MarkDecorator:
    """A mark that skips a test (or one parameter) when ``path`` under ../shared is absent."""
    return pytest.mark.skipif(not path.exists(), reason=_reason(path))


def shared_file(path: Path) -> Path:
    """Return ``path`` (under ../shared), or skip the calling test when it is absent."""
    if not path.exists():
        pytest.skip(_reason(path))
    return path
