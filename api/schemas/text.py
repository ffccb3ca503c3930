"""The text type every request field uses: the one rule of :mod:`index.textcheck`."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from index.formats.textcheck import text_problem


def _checked(text: str) -> str:
    if problem := text_problem(text):
        raise ValueError(problem)
    return text


CleanText = Annotated[str, AfterValidator(_checked)]
