"""docs/configuration.md lists every setting, exactly as scripts/settings_table.py prints it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from settings_table import table
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [row for row in table() if row not in page]
    assert not missing, (
        "docs/configuration.md is out of step with docqa/settings.py; regenerate the table "
        "with `python scripts/settings_table.py`. Rows missing or changed:\n" + "\n".join(missing)
    )
