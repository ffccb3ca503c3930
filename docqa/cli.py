"""The ``docqa`` command: index files, search them, serve the API."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from docqa.settings import Settings
from index.errors import DocqaError

if TYPE_CHECKING:
    from index.encoders.parallel import BatchCache, BatchRunner

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
    workers: Annotated[
        int, typer.Option(min=1, help="Embed in this many worker processes (resumable).")
    ] = 1,
    ray: Annotated[
        str | None,
        typer.Option(help="Embed on a Ray cluster at this address ('local': start one here)."),
    ] = None,
) -> None:
    """Add or update files; files deleted from an indexed folder leave the index.

    With ``--workers N`` (or ``--ray ADDRESS``) passages are embedded in parallel and
    every finished batch is saved under the index directory, so rerunning an
    interrupted ingest embeds only what was not finished.
    """
    from rich.progress import Progress

    from docqa.wiring import (
        ann_policy,
        extract_limits,
        load_encoders,
        passage_limits,
        vector_store,
    )
    from index.lifecycle.ingest import discover, stage_paths
    from index.lifecycle.writer import IndexWriter

    targets = list(paths or []) + ([sample_corpus()] if sample else [])
    if not targets:
        raise _fail("give at least one PATH (or --sample)")
    settings = _settings(index_dir)
    discovery = discover(targets)
    parallel = workers > 1 or ray is not None
    runner: BatchRunner | None = None
    cache: BatchCache | None = None
    try:
        encoders = load_encoders(settings)
        if parallel:
            from functools import partial

            from index.encoders.parallel import (
                CACHE_DIR,
                BatchCache,
                open_runner,
                parallel_encoders,
            )

            runner = open_runner(partial(load_encoders, settings), workers, ray)
            cache = BatchCache(settings.index_dir / CACHE_DIR)
            encoders = parallel_encoders(encoders, runner, cache, settings.batch_size * 4)
        with (
            IndexWriter(
                settings.index_dir,
                encoders,
                rebuild=rebuild,
                batch_size=settings.batch_size,
                ann=ann_policy(settings),
                sentence_vectors=settings.sentence_vectors,
                vector_store=vector_store(settings),
                # Enough texts per encoder call to keep every worker busy.
                embed_chunk=settings.batch_size * 4 * workers * 4 if parallel else None,
                limits=passage_limits(settings),
            ) as writer,
            Progress(console=err, transient=False) as bar,
        ):
            reading = bar.add_task("reading files", total=len(discovery.files))
            errors = stage_paths(
                writer,
                discovery,
                on_file=lambda _p: bar.advance(reading),
                limits=extract_limits(settings),
            )
            embedding = bar.add_task("embedding", total=None)
            report = writer.commit(
                progress=lambda done, total: bar.update(embedding, completed=done, total=total)
            )
        if cache is not None:
            cache.clear()  # committed: the checkpointed batches are no longer needed
    except DocqaError as exc:
        raise _fail(str(exc)) from exc
    finally:
        if runner is not None:
            runner.close()
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
    from docqa.wiring import ann_policy, load_encoders, vector_store
    from index.lifecycle.writer import IndexWriter

    settings = _settings(index_dir)
    try:
        with IndexWriter(
            settings.index_dir,
            load_encoders(settings),
            ann=ann_policy(settings),
            vector_store=vector_store(settings),
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
    answers: Annotated[
        bool, typer.Option(help="Mark the answer span in every hit (span model).")
    ] = False,
    index_dir: IndexDir = None,
) -> None:
    """Ask a question of the index."""
    from docqa.wiring import load_answer_extractor, load_retriever
    from index.filters import MetadataFilter
    from retriever.answer.choice import MAX_MARKED_HITS, marked_hits
    from retriever.types import Mode

    if answers and top_k > MAX_MARKED_HITS:
        raise _fail(
            f"--answers marks at most {MAX_MARKED_HITS} hits; use --top-k {MAX_MARKED_HITS} or less"
        )
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
    hits = (
        marked_hits(load_answer_extractor(settings), result.query, result.hits)
        if answers
        else result.hits
    )
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
                    "sentence": asdict(h.sentence) if h.sentence else None,
                }
                for h in hits
            ],
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{result.query}  ({result.mode.value}, generation {result.generation})")
    columns = (
        ("#", "score", "answer", "passage", "source")
        if answers
        else ("#", "score", "passage", "source")
    )
    for column in columns:
        table.add_column(column)
    for hit in hits:
        cite = hit.citation
        row = [str(hit.rank), f"{hit.score:.3f}"]
        if answers:
            row.append(hit.answer.text if hit.answer else "")
        row += [
            hit.text if len(hit.text) < 400 else hit.text[:400] + "…",
            f"{cite.title}\n{cite.document_id} ¶{cite.paragraph} "
            f"[{cite.char_start}:{cite.char_end}]",
        ]
        table.add_row(*row)
    out.print(table)


@app.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    index_dir: IndexDir = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes. Python runs one request's own code at a time per "
            "process: on two cores, 2 serve concurrent clients faster than 1 (README).",
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import os

    import uvicorn

    from docqa.server import create_app

    settings = _settings(index_dir)
    bind_host, bind_port = host or settings.host, port or settings.port
    if workers == 1:
        uvicorn.run(
            create_app(settings),
            host=bind_host,
            port=bind_port,
            timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout_s)),
        )
        return
    # Each worker process builds its own app (encoders, index) from the environment.
    if index_dir is not None:
        os.environ["DOCQA_INDEX_DIR"] = str(index_dir)
    uvicorn.run(
        "docqa.server:create_app",
        factory=True,
        workers=workers,
        host=bind_host,
        port=bind_port,
        timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout_s)),
    )


@app.command("mcp")
def mcp_command(
    transport: Annotated[
        str, typer.Option(help="stdio (the client starts docqa) or http (streamable HTTP).")
    ] = "stdio",
    host: Annotated[str | None, typer.Option(help="Bind address (http).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (http); the endpoint is /mcp.")] = None,
    index_dir: IndexDir = None,
) -> None:
    """Serve the index as MCP tools: search, ask, list_documents, get_document (docs/mcp.md)."""
    from docqa.mcp_server import run

    if transport not in ("stdio", "http"):
        raise _fail(f"--transport must be stdio or http, got {transport!r}")
    settings = _settings(index_dir)
    run(
        settings,
        "stdio" if transport == "stdio" else "http",
        host or settings.host,
        port or settings.port,
    )


def main() -> None:
    app()
