"""``docqa eval``: reading QA files, scoring against expected answers, and the command.

The readers and the scoring run without models (a deterministic answerer gives exact
figures); one end-to-end test runs the command over the sample corpus's index.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docqa.cli import app
from docqa.eval_report import question_row, report_payload, write_questions_csv
from docqa.evaluation import (
    Outcome,
    Reading,
    document_matches,
    evaluate,
    percentile,
    score,
    summarize,
)
from docqa.qa_file import MAX_LINE_BYTES, QAFileError, QAItem, QALimits, read_qa_file
from retriever.answer import metrics
from retriever.types import Citation, Hit

LIMITS = QALimits(max_questions=100, max_question_chars=2000)


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path, limits: QALimits = LIMITS) -> QAFileError:
    with pytest.raises(QAFileError) as caught:
        read_qa_file(path, limits)
    return caught.value


# --- reading the QA file ------------------------------------------------------------


def test_csv_reads_answers_documents_and_unanswerable(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "qa.csv",
        "\ufeffQuestion,answers,document,notes\n"  # a spreadsheet's BOM, any case, extra column
        "Who signed the agreement?,Elena Duarte| Samuel Okafor ,signing-ceremony.md,x\n"
        "\n"
        '"谁代表村委会签字？","李明华",,\n'
        '"A question\nover two lines?",“two pennies”,,\n'
        "What is the capital of Peru?,,,\n",
    )
    items = read_qa_file(path, LIMITS)
    assert items == [
        QAItem(
            2, "Who signed the agreement?", ("Elena Duarte", "Samuel Okafor"), "signing-ceremony.md"
        ),
        QAItem(4, "谁代表村委会签字？", ("李明华",), None),
        QAItem(5, "A question\nover two lines?", ("“two pennies”",), None),
        QAItem(7, "What is the capital of Peru?", (), None),
    ]
    assert [i.answerable for i in items] == [True, True, True, False]


def test_jsonl_reads_answers_documents_and_unanswerable(tmp_path: Path) -> None:
    lines = [
        {"question": " Who signed? ", "answers": ["Elena Duarte"], "document": "doc-1"},
        {"question": "Capital of Peru?", "answers": [], "id": 7},
        {"question": "When?", "answers": ["1912", " "], "document": None},
    ]
    text = json.dumps(lines[0]) + "\n\n" + "\n".join(json.dumps(x) for x in lines[1:]) + "\n"
    for suffix in ("jsonl", "json", "ndjson"):
        items = read_qa_file(_write(tmp_path, f"qa.{suffix}", text), LIMITS)
        assert items == [
            QAItem(1, "Who signed?", ("Elena Duarte",), "doc-1"),
            QAItem(3, "Capital of Peru?", (), None),
            QAItem(4, "When?", ("1912",), None),
        ]


@pytest.mark.parametrize(
    ("name", "text", "line", "cause"),
    [
        ("a.jsonl", '{"question": "q", "answers": []}\n{"question": "q2", \n', 2, "not valid JSON"),
        ("b.jsonl", '{"question": "q", "answers": "Paris"}\n', 1, "list of strings"),
        ("c.jsonl", '\n{"question": "q"}\n', 2, "lacks 'answers'"),
        ("d.jsonl", '"q"\n', 1, "expected a JSON object, got str"),
        ("d.json", '[\n  {"question": "q", "answers": []}\n]\n', 1, "one JSON object per line"),
        ("e.jsonl", '{"question": 5, "answers": []}\n', 1, '"question" must be a string'),
        ("f.jsonl", '{"question": "q", "answers": [], "document": 3}\n', 1, '"document"'),
        ("g.jsonl", '{"question": "  ", "answers": []}\n', 1, "the question is empty"),
        ("h.jsonl", '{"question": "a\\u0000b", "answers": []}\n', 1, "NUL"),
        ("i.csv", "question,answers\nq1,a\nq2,a,extra\n", 3, "3 fields where the header has 2"),
        ("j.csv", "question,answer\nq1,a\n", 1, "lacks the column(s) answers"),
        ("k.csv", "question,answers\nq1,a\n,b\n", 3, "the question is empty"),
        ("l.csv", 'question,answers\nq1,a\n"unclosed,a\n', 3, "not valid CSV"),
    ],
)
def test_bad_lines_name_the_file_the_line_and_the_cause(
    tmp_path: Path, name: str, text: str, line: int, cause: str
) -> None:
    path = _write(tmp_path, name, text)
    error = _error(path)
    assert error.line == line
    assert cause in error.cause
    assert str(error).startswith(f"{path}, line {line}: ")


def test_file_level_problems(tmp_path: Path) -> None:
    assert "no such file" in str(_error(tmp_path / "missing.csv"))
    assert "unknown extension '.txt'" in str(_error(_write(tmp_path, "qa.txt", "q")))
    (tmp_path / "folder.csv").mkdir()
    assert "is a directory" in str(_error(tmp_path / "folder.csv"))
    assert "empty" in str(_error(_write(tmp_path, "empty.csv", "")))
    assert "no questions" in str(_error(_write(tmp_path, "blank.jsonl", "\n\n")))
    assert "no questions" in str(_error(_write(tmp_path, "header.csv", "question,answers\n")))
    bad = _error(_write(tmp_path, "latin.csv", "question,answers\nq,caf\xe9\n".encode("latin-1")))
    assert bad.line == 2 and "not UTF-8" in bad.cause


def test_limits_on_questions_question_length_and_line_length(tmp_path: Path) -> None:
    rows = "".join(f"question {n},answer {n}\n" for n in range(4))
    path = _write(tmp_path, "many.csv", "question,answers\n" + rows)
    assert len(read_qa_file(path, QALimits(4, 2000))) == 4
    error = _error(path, QALimits(3, 2000))
    assert error.line == 5 and "more than 3 questions" in error.cause
    assert "DOCQA_EVAL_MAX_QUESTIONS" in error.cause
    long = _write(tmp_path, "long.jsonl", json.dumps({"question": "w" * 21, "answers": []}))
    assert len(read_qa_file(long, QALimits(10, 21))) == 1
    error = _error(long, QALimits(10, 20))
    assert error.line == 1 and "21 characters; the limit is 20" in error.cause
    huge = _write(
        tmp_path, "huge.jsonl", '{"question": "q", "answers": []}\n' + "x" * MAX_LINE_BYTES * 2
    )
    error = _error(huge)
    assert error.line == 2 and "longer than" in error.cause


def test_bad_file_is_a_usage_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "qa.jsonl", '{"question": "q", "answers": []}\n{oops}\n')
    result = CliRunner().invoke(app, ["eval", str(path), "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # typer's exit, not an exception
    assert "qa.jsonl, line 2: not valid JSON" in result.output
    assert "Traceback" not in result.output
    # The settings bound the file as the docs say.
    monkeypatch.setenv("DOCQA_EVAL_MAX_QUESTIONS", "2")
    monkeypatch.setenv("DOCQA_MAX_QUERY_CHARS", "40")
    many = _write(tmp_path, "many.csv", "question,answers\nq1,a\nq2,b\nq3,c\n")
    result = CliRunner().invoke(app, ["eval", str(many), "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 2 and "many.csv, line 4: more than 2 questions" in result.output
    long = _write(tmp_path, "long.csv", "question,answers\n" + "w" * 41 + ",a\n")
    result = CliRunner().invoke(app, ["eval", str(long), "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 2 and "long.csv, line 2: the question is 41" in result.output


# --- scoring ------------------------------------------------------------------------


def _hit(rank: int, text: str, title: str = "Harbour", document_id: str = "d1") -> Hit:
    citation = Citation(document_id, title, f"/docs/{title.lower()}.md", rank, 0, len(text))
    return Hit(
        rank=rank, score=1.0, passage_id=f"{document_id}:{rank}", text=text, citation=citation
    )


SIGNING = _hit(1, "Mayor Elena Duarte signed the agreement for the council.")
LIBRARY = _hit(2, "The River Street Library opened in 1912.", "Library", "d2")


def test_answer_metrics_live_once_and_match_whole_tokens() -> None:
    from scripts.lab import squad_metrics

    for name in ("normalize_answer", "exact_match", "f1_score", "max_over_ground_truths"):
        assert getattr(squad_metrics, name) is getattr(metrics, name)
    assert metrics.contains_answer("The governor, Li Guobiao, said.", ["li guobiao"])
    assert not metrics.contains_answer("Li Guobiao said.", ["Guo"])
    assert not metrics.contains_answer("anything", ["the", "."])  # normalises to nothing
    assert metrics.contains_answer("set at “two pennies” a ton", ["Two pennies"])
    assert metrics.contains_answer("in 1912.", ["1912"]) and not metrics.contains_answer(
        "19120", ["1912"]
    )
    assert metrics.contains_answer("李明华代表村民委员会签字。", ["李明华"])
    assert not metrics.contains_answer("李明华代表村民委员会签字。", ["王芳"])


def test_document_matches_id_title_or_file_name() -> None:
    for name in ("d1", "harbour", " Harbour ", "harbour.md", "HARBOUR.MD"):
        assert document_matches(SIGNING, name), name
    for name in ("D1", "harb", "library", "d2"):
        assert not document_matches(SIGNING, name), name


def test_score_outcomes_and_summary_are_exact() -> None:
    items = [
        QAItem(2, "Who signed?", ("Elena Duarte", "Samuel Okafor"), None),  # right
        QAItem(3, "Who signed, in the library file?", ("Elena Duarte",), "Library"),  # wrong doc
        QAItem(4, "When did it open?", ("1912",), None),  # retrieved, not found
        QAItem(5, "Who signed for the council?", ("Elena Duarte",), "d1"),  # partial answer
        QAItem(6, "Capital of Peru?", (), None),  # rightly not found
        QAItem(7, "Moons of Mars?", (), None),  # wrongly answered
    ]
    readings = {
        "Who signed?": Reading((SIGNING, LIBRARY), "Mayor Elena Duarte", True, 10.0),
        "Who signed, in the library file?": Reading((SIGNING, LIBRARY), "Elena Duarte", True, 20.0),
        "When did it open?": Reading((LIBRARY,), "1912", False, 30.0),
        "Who signed for the council?": Reading((SIGNING,), "Mayor Elena", True, 40.0),
        "Capital of Peru?": Reading((LIBRARY,), "1912", False, 50.0),
        "Moons of Mars?": Reading((SIGNING,), "two", True, 60.0),
    }
    seen: list[int] = []
    scored = evaluate(items, readings.__getitem__, on_question=lambda s: seen.append(s.item.line))
    assert seen == [2, 3, 4, 5, 6, 7]
    assert [s.outcome for s in scored] == [
        Outcome.WRONG_ANSWER,
        Outcome.NOT_RETRIEVED,
        Outcome.NOT_FOUND,
        Outcome.WRONG_ANSWER,
        Outcome.CORRECT,
        Outcome.WRONGLY_ANSWERED,
    ]
    by_line = {s.item.line: s for s in scored}
    # "Mayor Elena Duarte" against "Elena Duarte": F1 = 2 * (2/3 * 1) / (2/3 + 1) = 0.8.
    assert by_line[2].exact == 0.0 and by_line[2].f1 == pytest.approx(0.8)
    assert by_line[2].retrieved
    # The answer text is right, but no passage of the named document holds it: the
    # outcome names the first problem, the scores stay.
    assert (by_line[3].exact, by_line[3].f1, by_line[3].retrieved) == (1.0, 1.0, False)
    # Not found counts 0 although the closest text is the right one.
    assert (by_line[4].exact, by_line[4].f1, by_line[4].retrieved) == (0.0, 0.0, True)
    # "Mayor Elena" against "Elena Duarte": one token of two either way, F1 0.5.
    assert by_line[5].exact == 0.0 and by_line[5].f1 == pytest.approx(0.5)

    summary = summarize(scored, top_k=5)
    assert (summary.questions, summary.answerable, summary.unanswerable) == (6, 4, 2)
    assert summary.recall_at_k == pytest.approx(3 / 4)  # lines 2, 4, 5
    assert summary.exact_match == pytest.approx(1 / 4)  # line 3
    assert summary.f1 == pytest.approx((0.8 + 1.0 + 0.0 + 0.5) / 4)
    assert summary.answered_share == pytest.approx(3 / 4)  # 2, 3, 5 found
    assert summary.wrongly_answered_share == pytest.approx(1 / 2)  # line 7
    assert summary.found_accuracy == pytest.approx(4 / 6)  # 2, 3, 5 found + 6 not found
    assert summary.latency_p50_ms == pytest.approx(35.0)
    assert summary.latency_p95_ms == pytest.approx(57.5)  # rank 4.75 of 0..5: 50 + 0.75 * 10


def test_unanswerable_only_and_no_extractor_shares() -> None:
    scored = [score(QAItem(1, "q", (), None), Reading((), None, False, 5.0))]
    summary = summarize(scored, top_k=3)
    assert summary.recall_at_k is None and summary.f1 is None and summary.answered_share is None
    assert summary.wrongly_answered_share == 0.0 and summary.found_accuracy == 1.0


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile(list(map(float, range(1, 21))), 95) == pytest.approx(19.05)


def test_report_rows_and_csv(tmp_path: Path) -> None:
    item = QAItem(9, 'Who, "exactly", signed?', ("Elena Duarte", "Okafor"), None)
    reading = Reading((SIGNING, LIBRARY, SIGNING), "Elena Duarte", True, 12.3456, ("Okafor",))
    scored = score(item, reading)
    unanswerable = score(QAItem(10, "Peru?", (), None), Reading((LIBRARY,), "1912", True, 1.0))
    write_questions_csv(tmp_path / "q.csv", [scored, unanswerable])
    with (tmp_path / "q.csv").open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert rows[0]["question"] == 'Who, "exactly", signed?'
    assert rows[0]["expected_answers"] == "Elena Duarte | Okafor"
    assert rows[0]["top_documents"] == "Harbour | Library"  # each document once
    assert (rows[0]["outcome"], rows[0]["found"], rows[0]["f1"]) == ("correct", "true", "1.0")
    assert rows[0]["latency_ms"] == "12.346"
    assert (rows[0]["further_answers"], rows[1]["further_answers"]) == ("Okafor", "")
    assert rows[1]["outcome"] == "answered but should not be found"
    assert (rows[1]["answer_in_top_k"], rows[1]["exact_match"], rows[1]["f1"]) == ("", "", "")
    payload = report_payload(summarize([scored, unanswerable], 3), [scored, unanswerable])
    assert payload["questions"] == [question_row(scored), question_row(unanswerable)]
    assert payload["summary"]["questions"] == 2  # type: ignore[index]


# --- end to end over the sample corpus ----------------------------------------------


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    index_dir = tmp_path_factory.mktemp("eval") / "idx"
    result = CliRunner().invoke(app, ["index", "--sample", "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    yield index_dir


@pytest.mark.e2e
def test_eval_over_the_sample_index(sample_index: Path, tmp_path: Path) -> None:
    qa = _write(
        tmp_path,
        "qa.jsonl",
        "\n".join(
            json.dumps(line)
            for line in [
                {
                    "question": "Who signed the agreement?",
                    "answers": ["Elena Duarte", "Samuel Okafor"],
                    "document": "signing-ceremony.md",
                },
                {"question": "When did the River Street Library open?", "answers": ["1912"]},
                {"question": "What is the capital of Peru?", "answers": []},
            ]
        ),
    )
    report, per_question = tmp_path / "out" / "report.json", tmp_path / "out" / "questions.csv"
    result = CliRunner().invoke(
        app,
        ["eval", str(qa), "--index-dir", str(sample_index), "--top-k", "3"]
        + ["--json", str(report), "--errors-csv", str(per_question)],
    )
    assert result.exit_code == 0, result.output
    assert "answer in top 3" in result.stdout
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    with per_question.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["line"] for r in rows] == ["1", "2", "3"]
    answerable = [r for r in rows if r["expected_answers"]]
    unanswerable = [r for r in rows if not r["expected_answers"]]
    found = {r["line"]: r["found"] == "true" for r in rows}
    assert (summary["questions"], summary["answerable"], summary["unanswerable"]) == (3, 2, 1)
    assert summary["top_k"] == 3
    # The who-signed passage is retrieved, from the named document.
    assert rows[0]["answer_in_top_k"] == "true"
    assert "Harbour City and Northwind Rail" in rows[0]["top_documents"].split(" | ")[0]
    # Both signers are shown: the scored answer and the further one.
    named = [rows[0]["predicted_answer"], *rows[0]["further_answers"].split(" | ")]
    assert len(named) == 2 and "Duarte" in named[0] and "Okafor" in named[1]
    # The JSON's figures are the per-question rows' figures.
    recall = sum(r["answer_in_top_k"] == "true" for r in answerable) / 2
    assert summary["recall_at_k"] == pytest.approx(recall)
    assert summary["exact_match"] == pytest.approx(
        sum(float(r["exact_match"]) for r in answerable) / 2
    )
    assert summary["f1"] == pytest.approx(sum(float(r["f1"]) for r in answerable) / 2)
    right = sum(found[r["line"]] for r in answerable) + sum(
        not found[r["line"]] for r in unanswerable
    )
    assert summary["found_accuracy"] == pytest.approx(right / 3)
    assert summary["answered_share"] == pytest.approx(sum(found[r["line"]] for r in answerable) / 2)
    assert summary["wrongly_answered_share"] == float(found["3"])
    assert rows[2]["outcome"] == ("answered but should not be found" if found["3"] else "correct")
    for r in answerable:  # a not-found answer scores 0
        if not found[r["line"]]:
            assert float(r["f1"]) == 0.0
    latencies = sorted(float(r["latency_ms"]) for r in rows)
    assert summary["latency_p50_ms"] == pytest.approx(latencies[1], abs=1e-3)
    assert 0 < summary["latency_p50_ms"] <= summary["latency_p95_ms"] <= latencies[2] + 1e-3
