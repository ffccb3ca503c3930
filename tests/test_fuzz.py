"""Property-based fuzzing of every operation in the app's own OpenAPI schema (schemathesis).

Runs in-process against the ASGI app with the keyword encoder and a fake extractor:
generated requests (valid and invalid) must never get a 5xx, and every response must
match the schema (status code documented, body shape, content type); with a write key
configured, requests without it must be refused. All operations are included, uploads
and deletes too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.result import Ok

from tests.api_support import TREATY_ANSWER, FakeExtractor, make_app
from tests.fakes import KeywordEncoder
from tests.helpers import index_paths

pytestmark = pytest.mark.slow  # MAX_EXAMPLES generated requests per operation and mode
KEY = "fuzz-write-key"
MAX_EXAMPLES = 25  # per operation: keeps the whole run well under a minute


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> schemathesis.BaseSchema:
    root = tmp_path_factory.mktemp("fuzz")
    docs = root / "docs"
    docs.mkdir()
    (docs / "treaty.md").write_text(
        "# The Harbour Treaty\n\nThe treaty was signed by Mayor Alice Brown in 1901.\n",
        encoding="utf-8",
    )
    (docs / "tea.txt").write_text("Green tea\n\n茶叶在山上种植。\n", encoding="utf-8")
    index_paths(root / "idx", KeywordEncoder(), docs)
    app = make_app(
        root / "idx",
        FakeExtractor([TREATY_ANSWER]),
        max_upload_bytes=65_536,
        api_keys_write=[KEY],  # with keys on, schemathesis also checks requests without one
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _checker(operation: Any, mode: GenerationMode, excluded: list[Any]) -> Callable[[], None]:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,  # no .hypothesis/ folder in the work tree
        derandomize=True,  # the same examples every CI run: a failure reproduces
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, excluded_checks=excluded)

    return check


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(
    api_schema: schemathesis.BaseSchema, mode: GenerationMode
) -> None:
    # One test looping over operations rather than schemathesis' pytest plugin, whose
    # fixture loader does not run on pytest 9; failures still name the operation.
    operations = []
    for result in api_schema.get_all_operations():
        assert isinstance(result, Ok), f"the app's schema is invalid: {result.err()}"
        operations.append(result.ok())
    labels = {op.label for op in operations}
    assert {"POST /v1/documents", "POST /v1/chat/completions", "GET /metrics"} <= labels
    failures: list[str] = []
    unsatisfiable: set[str] = set()
    for operation in operations:
        # An upload's acceptability depends on its file name and bytes (type, encoding),
        # which OpenAPI cannot state: a schema-valid random file is rightly refused with
        # 415/422. Only that one check is off for uploads; the rest run on them too.
        upload = operation.label in {"POST /v1/documents", "POST /documents"}
        excluded = [positive_data_acceptance] if upload else []
        try:
            _checker(operation, mode, excluded)()
        except Unsatisfiable:
            unsatisfiable.add(operation.label)
        except (Exception, BaseExceptionGroup) as exc:  # every operation gets reported
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    # Operations without any input cannot be sent invalid data; nothing else is skipped.
    expected = {"GET /health", "GET /metrics"} if mode is GenerationMode.NEGATIVE else set()
    assert unsatisfiable == expected


# The hostile inputs of issue 17, run through schemathesis' own checks (no 5xx, responses
# match the schema, documented status codes) beside the generated cases.
HOSTILE_BODIES: list[tuple[str, dict[str, object]]] = [
    ("POST /v1/search", {"query": "treaty", "top_k": "5"}),
    ("POST /v1/search", {"query": "treaty", "top_k": True}),
    ("POST /v1/search", {"query": "treaty", "answers": "yes"}),
    ("POST /v1/search", {"query": "\u200b\u200b"}),
    ("POST /v1/search", {"query": "treaty\ud800"}),
    ("POST /v1/search", {"query": "treaty", "filters": {"date_from": "2020' OR '1'='1"}}),
    ("POST /v1/search", {"query": "x", "filters": {"metadata": {"\ud800": "\x00"}}}),
    ("POST /v1/ask", {"query": "who\x00", "top_k": 2}),
    ("POST /v1/chat/completions", {"messages": [{"role": "user", "content": "\ud83d"}]}),
    (
        "POST /v1/chat/completions",
        {"stream": True, "messages": [{"role": "user", "content": "\udc00 treaty"}]},
    ),
    (
        "POST /v1/chat/completions",
        {"model": "\u2060", "messages": [{"role": "user", "content": "x"}]},
    ),
]


@pytest.mark.parametrize(("label", "body"), HOSTILE_BODIES)
def test_hostile_bodies_pass_the_schema_checks(
    api_schema: schemathesis.BaseSchema, label: str, body: dict[str, object]
) -> None:
    operations = {r.ok().label: r.ok() for r in api_schema.get_all_operations()}
    case = operations[label].Case(body=body, media_type="application/json")
    response = case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 422, response.text
