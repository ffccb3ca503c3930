"""Read a user's evaluation questions: CSV or JSON lines, each with its expected answers.

CSV: a header with ``question`` and ``answers`` (and optionally ``document``); several
answers are separated by ``|``; an empty ``answers`` cell means the index should *not*
hold the answer. JSON lines: ``{"question": ..., "answers": [...], "document": ...}``,
``"answers": []`` for "should not be found". Other columns or keys are ignored.

Every problem is a :class:`QAFileError` naming the file, the line and the cause.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from index.formats.textcheck import text_problem

CSV_SUFFIXES = (".csv",)
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
#: Longest line read (either format): a line is one question with its answers.
MAX_LINE_BYTES = 131_072
ANSWER_SEPARATOR = "|"


class QAFileError(Exception):
    """The QA file cannot be read as given; ``str()`` names the file, line and cause."""

    def __init__(self, path: Path, line: int | None, cause: str) -> None:
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {cause}")
        self.path = path
        self.line = line
        self.cause = cause


@dataclass(frozen=True)
class QAItem:
    """One question to evaluate.

    Attributes:
        line: The line of the file the question starts on (1-based).
        question: The question, stripped.
        answers: Accepted answers; empty when the index should not hold the answer.
        document: The document the answer must come from (id, title or source file
            name), or None for any document.
    """

    line: int
    question: str
    answers: tuple[str, ...]
    document: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


@dataclass(frozen=True)
class QALimits:
    """Bounds on one QA file."""

    max_questions: int
    max_question_chars: int


def _checked_question(raw: str, limits: QALimits) -> str:
    """The stripped question; raises ValueError with the cause."""
    question = raw.strip()
    if not question:
        raise ValueError("the question is empty")
    if problem := text_problem(question):
        raise ValueError(f"the question {problem}")
    if len(question) > limits.max_question_chars:
        raise ValueError(
            f"the question is {len(question)} characters; the limit is "
            f"{limits.max_question_chars} (DOCQA_MAX_QUERY_CHARS, as for the server)"
        )
    return question


def _checked_answers(values: list[str]) -> tuple[str, ...]:
    answers = tuple(a.strip() for a in values if a.strip())
    for answer in answers:
        if problem := text_problem(answer):
            raise ValueError(f"the answer {answer!r} {problem}")
    return answers


def _optional_document(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f'"document" must be a string, got {type(value).__name__}')
    return value.strip() or None


def _lines(path: Path, stream: BinaryIO) -> Iterator[str]:
    """The file's lines, decoded one at a time, so a bad byte or an over-long line is
    reported with its line number."""
    line = 0
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        line += 1
        if len(raw) > MAX_LINE_BYTES:
            raise QAFileError(path, line, f"the line is longer than {MAX_LINE_BYTES} bytes")
        try:
            # utf-8-sig on the first line: spreadsheets save CSV with a byte-order mark.
            text = raw.decode("utf-8-sig" if line == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise QAFileError(path, line, f"not UTF-8 text (byte {exc.start + 1})") from exc
        yield text


def _csv_rows(path: Path, lines: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of every CSV record (a quoted field may span lines)."""
    reader = csv.reader(lines, strict=True)  # an unclosed quote is an error, not a field
    start = 1
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise QAFileError(path, reader.line_num, f"not valid CSV ({exc})") from exc
        if row is None:
            return
        yield start, row
        start = reader.line_num + 1


def _csv_items(path: Path, lines: Iterator[str], limits: QALimits) -> Iterator[QAItem]:
    rows = _csv_rows(path, lines)
    first = next(rows, None)
    if first is None:
        raise QAFileError(path, None, "the file is empty (expected a header line)")
    header_line, header_row = first
    header = [name.strip().lower() for name in header_row]
    missing = [name for name in ("question", "answers") if name not in header]
    if missing:
        raise QAFileError(
            path,
            header_line,
            f"the header lacks the column(s) {', '.join(missing)} "
            f"(it has: {', '.join(header_row) or 'nothing'})",
        )
    question_at, answers_at = header.index("question"), header.index("answers")
    document_at = header.index("document") if "document" in header else None
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) != len(header):
            raise QAFileError(path, line, f"{len(row)} fields where the header has {len(header)}")
        try:
            question = _checked_question(row[question_at], limits)
            answers = _checked_answers(row[answers_at].split(ANSWER_SEPARATOR))
        except ValueError as exc:
            raise QAFileError(path, line, str(exc)) from exc
        document = None if document_at is None else row[document_at].strip() or None
        yield QAItem(line, question, answers, document)


def _json_item(line: int, text: str, limits: QALimits) -> QAItem:
    if text.lstrip().startswith("["):
        raise ValueError("a JSON array; the file must hold one JSON object per line")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg}, column {exc.colno})") from exc
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got {type(value).__name__}")
    lacking = [key for key in ("question", "answers") if key not in value]
    if lacking:
        raise ValueError(f"the object lacks {' and '.join(repr(k) for k in lacking)}")
    if not isinstance(value["question"], str):
        raise ValueError(f'"question" must be a string, got {type(value["question"]).__name__}')
    answers = value["answers"]
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise ValueError('"answers" must be a list of strings ([] for "should not be found")')
    return QAItem(
        line,
        _checked_question(value["question"], limits),
        _checked_answers(answers),
        _optional_document(value.get("document")),
    )


def _jsonl_items(path: Path, lines: Iterator[str], limits: QALimits) -> Iterator[QAItem]:
    for line, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            yield _json_item(line, text, limits)
        except ValueError as exc:
            raise QAFileError(path, line, str(exc)) from exc


def read_qa_file(path: Path, limits: QALimits) -> list[QAItem]:
    """Every question of ``path``, checked; the format is chosen by the extension.

    Raises:
        QAFileError: the file is missing, unreadable, of an unknown extension, empty,
            holds more than ``limits.max_questions`` questions, or a line is malformed.
    """
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + JSONL_SUFFIXES:
        known = ", ".join(CSV_SUFFIXES + JSONL_SUFFIXES)
        raise QAFileError(path, None, f"unknown extension {path.suffix!r} (expected {known})")
    read = _csv_items if suffix in CSV_SUFFIXES else _jsonl_items
    items: list[QAItem] = []
    try:
        with path.open("rb") as stream:
            for item in read(path, _lines(path, stream), limits):
                if len(items) == limits.max_questions:
                    raise QAFileError(
                        path,
                        item.line,
                        f"more than {limits.max_questions} questions (the limit, "
                        "DOCQA_EVAL_MAX_QUESTIONS); split the file or raise the setting",
                    )
                items.append(item)
    except FileNotFoundError as exc:
        raise QAFileError(path, None, "no such file") from exc
    except IsADirectoryError as exc:
        raise QAFileError(path, None, "is a directory, not a file") from exc
    except PermissionError as exc:
        raise QAFileError(path, None, "permission denied") from exc
    if not items:
        raise QAFileError(path, None, "no questions in the file")
    return items
