"""Print the settings table of docs/configuration.md from ``docqa.settings.Settings``.

    python scripts/settings_table.py > /tmp/table.md   # paste under "Every setting"

``tests/test_settings_doc.py`` fails when a setting is missing from the page.
"""

from __future__ import annotations

import enum
from pathlib import Path

from pydantic_core import PydanticUndefined

from docqa.profiles import PROFILES
from docqa.settings import Settings


def _shown(value: object) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "unset"
    if isinstance(value, Path):
        return f"`{value}`"
    if isinstance(value, list):
        return ",".join(map(str, value)) if value else "none"
    if isinstance(value, int) and value >= 10_000:
        return f"{value:_}"
    if isinstance(value, str):
        return f"`{value}`" if value else "empty"
    return str(value)


def table() -> list[str]:
    """One Markdown row per field: environment name, default (per profile), meaning."""
    per_profile: dict[str, dict[str, object]] = {}
    for profile, values in PROFILES.items():
        for name in values.__dataclass_fields__:
            per_profile.setdefault(name, {})[profile.value] = getattr(values, name)
    rows = ["| setting | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        if name in per_profile:
            default = ", ".join(f"{_shown(v)} ({p})" for p, v in per_profile[name].items())
        elif field.default_factory is not None:
            default = _shown(field.default_factory())  # type: ignore[call-arg]
        elif field.default is PydanticUndefined:
            default = "required"
        else:
            default = _shown(field.default)
            if name.endswith("_bytes") and isinstance(field.default, int):
                default += f" ({field.default // 1_048_576} MiB)"
        meaning = (field.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `DOCQA_{name.upper()}` | {default} | {meaning} |")
    return rows


def main() -> None:
    print("\n".join(table()))


if __name__ == "__main__":
    main()
