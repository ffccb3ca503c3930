"""The ``docqa`` command: index files, search them, serve the API."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from docqa.settings import Settings
from index.errors import DocqaError

app = typer.Typer(help="docqa: ask questions, get ranked paragraphs with citations.")
out = Console()
err = Console(stderr=True)

IndexDir = Annotated[
    Path | None,
    typer.Option("--index-dir", help="Index directory (default: setting DOCQA_INDEX_DIR)."),
]


def _settings(index_dir: Path | None) -> Settings:
    settings = Settings()
    return settings.model_copy(update={"index_dir": index_dir}) if index_dir else settings


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=1)


def sample_corpus() -> Path:
    """The folder of sample documents shipped inside the package."""
    return Path(__file__).with_name("sample_corpus")


@app.command("index")
def index_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders to index.")] = None,
    index_dir: IndexDir = None,
    sample: Annotated[
        bool, typer.Option(help="Index the sample corpus shipped with docqa.")
    ] = False,
    rebuild: Annotated[bool, typer.Option(help="Start a new index instead of updating.")] = False,
) -> None:
    """Add or update files; files deleted from an indexed folder leave the index."""
    from rich.progress import Progress

    from docqa.wiring import load_embedders
    from index.ingest import discover, stage_paths
    from index.writer import IndexWriter

    targets = list(paths or []) + ([sample_corpus()] if sample else [])
    if not targets:
        raise _fail("give at least one PATH (or --sample)")
    settings = _settings(index_dir)
    discovery = discover(targets)
    try:
        embedders = load_embedders(settings)
        with (
            IndexWriter(
                settings.index_dir,
                embedders,
                rebuild=rebuild,
                batch_size=settings.batch_size,
                ann=settings.ann_policy(),
            ) as writer,
            Progress(console=err, transient=False) as bar,
        ):
            reading = bar.add_task("reading files", total=len(discovery.files))
            errors = stage_paths(writer, discovery, on_file=lambda _p: bar.advance(reading))
            embedding = bar.add_task("embedding", total=None)
            report = writer.commit(
                progress=lambda done, total: bar.update(embedding, completed=done, total=total)
            )
    except DocqaError as exc:
        raise _fail(str(exc)) from exc
    for problem in errors:
        err.print(f"[yellow]skipped[/] {problem.path}: {problem.reason}", highlight=False)
    out.print(
        f"generation {report.generation}: {report.documents_total} documents, "
        f"{report.passages_total} passages (added {report.documents_added}, updated "
        f"{report.documents_updated}, unchanged {report.documents_unchanged}, removed "
        f"{report.documents_removed}; embedded {report.passages_embedded} passages) "
        f"in {settings.index_dir}",
        highlight=False,
    )
    if errors:
        # Partial success still fails the command, so scripts notice skipped files.
        raise _fail(f"{len(errors)} file(s) could not be indexed (listed above); the rest were")


@app.command("remove")
def remove_command(
    document_ids: Annotated[list[str], typer.Argument(help="Document ids to remove.")],
    index_dir: IndexDir = None,
) -> None:
    """Remove documents from the index by id."""
    from docqa.wiring import load_embedders
    from index.writer import IndexWriter

    settings = _settings(index_dir)
    try:
        with IndexWriter(
            settings.index_dir, load_embedders(settings), ann=settings.ann_policy()
        ) as writer:
            missing = [d for d in document_ids if not writer.remove(d)]
            if missing:
                raise _fail(f"not in the index: {', '.join(missing)}; nothing was removed")
            report = writer.commit()
    except DocqaError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"generation {report.generation}: removed {report.documents_removed} documents")


@app.command("search")
def search_command(
    question: Annotated[str, typer.Argument(help="The question.")],
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=100)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    mode: Annotated[str | None, typer.Option(help="dense, lexical or hybrid.")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Only documents with this tag.")] = None,
    date_from: Annotated[str | None, typer.Option(help="Only documents dated on/after.")] = None,
    date_to: Annotated[str | None, typer.Option(help="Only documents dated on/before.")] = None,
    index_dir: IndexDir = None,
) -> None:
    """Ask a question of the index."""
    from docqa.wiring import load_retriever
    from index.filters import MetadataFilter
    from retriever.types import Mode

    settings = _settings(index_dir)
    try:
        chosen = Mode(mode) if mode else None
    except ValueError as exc:
        raise _fail(f"--mode must be one of dense, lexical, hybrid; got {mode!r}") from exc
    try:
        filters = MetadataFilter(tags=tuple(tag or ()), date_from=date_from, date_to=date_to)
        result = load_retriever(settings).search(question, top_k, chosen, filters)
    except DocqaError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        payload = {
            "query": result.query,
            "results": [
                {
                    "rank": h.rank,
                    "score": h.score,
                    "text": h.text,
                    "char_start": h.citation.char_start,
                    "char_end": h.citation.char_end,
                    "citation": asdict(h.citation),
                    "answer": asdict(h.answer) if h.answer else None,
                }
                for h in result.hits
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{result.query}  ({result.mode.value}, generation {result.generation})")
    for column in ("#", "score", "passage", "source"):
        table.add_column(column)
    for hit in result.hits:
        cite = hit.citation
        table.add_row(
            str(hit.rank),
            f"{hit.score:.3f}",
            hit.text if len(hit.text) < 400 else hit.text[:400] + "…",
            f"{cite.title}\n{cite.document_id} ¶{cite.paragraph} "
            f"[{cite.char_start}:{cite.char_end}]",
        )
    out.print(table)


@app.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    index_dir: IndexDir = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app

    settings = _settings(index_dir)
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port)


def main() -> None:
    app()
