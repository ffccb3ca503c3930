"""Metadata from sidecars, and filters at query time (retriever and API)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from docqa.server import create_app
from docqa.settings import Settings
from index.filters import MetadataFilter
from retriever.types import Mode
from tests.fakes import KeywordEncoder
from tests.helpers import STORE_SETTINGS, index_paths, open_retriever

# Metadata filters run against both vector stores; in Milvus they become expressions.
pytestmark = pytest.mark.usefixtures("store")


@pytest.fixture
def tagged(tmp_path: Path, store: str) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, tags, date in [
        ("alpha.txt", ["finance", "asia"], "2024-03-01"),
        ("beta.txt", "finance, europe", "2025-01-15"),
        ("gamma.txt", ["sport"], "2023-07-30"),
    ]:
        (folder / name).write_text(f"{name}\n\nThe budget report for {name}.", encoding="utf-8")
        meta = {"tags": tags, "date": date, "author": name[0]}
        (folder / f"{name}.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    index_paths(tmp_path / "idx", KeywordEncoder(), folder)
    return tmp_path / "idx"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (MetadataFilter(tags=("finance",)), {"alpha.txt", "beta.txt"}),
        (MetadataFilter(tags=("europe", "sport")), {"beta.txt", "gamma.txt"}),
        (MetadataFilter(date_from="2024-01-01"), {"alpha.txt", "beta.txt"}),
        (MetadataFilter(date_from="2024", date_to="2024-12-31"), {"alpha.txt"}),
        (MetadataFilter(tags=("finance",), date_to="2024-06"), {"alpha.txt"}),
        (MetadataFilter(equals={"author": "g"}), {"gamma.txt"}),
        (MetadataFilter(tags=("none",)), set()),
    ],
)
@pytest.mark.parametrize("mode", list(Mode))
def test_filters_select_documents(
    tagged: Path, filters: MetadataFilter, expected: set[str], mode: Mode
) -> None:
    hits = open_retriever(tagged, KeywordEncoder()).search("budget report", 10, mode, filters).hits
    assert {Path(h.citation.source).name for h in hits} == expected


def test_sidecar_metadata_is_listed(tagged: Path) -> None:
    app = create_app(
        Settings(index_dir=tagged, **STORE_SETTINGS),  # type: ignore[arg-type]
        encoder_factory=lambda _s: [KeywordEncoder()],
    )
    with TestClient(app) as client:
        docs = client.get("/documents").json()["documents"]
        assert {d["metadata"]["date"] for d in docs} == {"2024-03-01", "2025-01-15", "2023-07-30"}
        body = client.post(
            "/search",
            json={"query": "budget report", "top_k": 10, "filters": {"tags": "finance"}},
        ).json()
        sources = {Path(r["citation"]["source"]).name for r in body["results"]}
        assert sources == {"alpha.txt", "beta.txt"}
        bad = client.post(
            "/search", json={"query": "budget", "filters": {"date_from": "last tuesday"}}
        )
        assert bad.status_code == 422 and "date_from" in bad.json()["error"]["message"]


def test_changed_metadata_reaches_the_filters(tagged: Path) -> None:
    """New sidecar metadata, same text: the kept vectors are filtered by the new metadata."""
    folder = tagged.parent / "docs"
    meta = {"tags": ["finance"], "date": "2026-01-01", "author": "g"}
    (folder / "gamma.txt.meta.json").write_text(json.dumps(meta), encoding="utf-8")
    encoder = KeywordEncoder()
    report, _ = index_paths(tagged, encoder, folder)
    assert report.documents_updated == 1 and encoder.encoded == []  # nothing re-embedded
    retriever = open_retriever(tagged, KeywordEncoder())
    for mode in Mode:
        finance = retriever.search("budget report", 10, mode, MetadataFilter(tags=("finance",)))
        assert {Path(h.citation.source).name for h in finance.hits} == {
            "alpha.txt",
            "beta.txt",
            "gamma.txt",
        }
        sport = retriever.search("budget report", 10, mode, MetadataFilter(tags=("sport",)))
        assert sport.hits == ()
