"""The ``docqa`` command: index files, search them, serve the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from docqa.render import Payload, answer_payload, hit_payload, hits_table
from docqa.settings import Settings
from index.errors import DocqaError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from docqa.evaluation import LocalAnswerer
    from index.encoders.parallel import BatchCache, BatchRunner
    from index.lifecycle.ingest import FileError
    from retriever.types import SearchResult

app = typer.Typer(help="docqa: ask questions, get ranked paragraphs with citations.")
out = Console()
err = Console(stderr=True, soft_wrap=True)  # messages whole on one line: scripts grep them

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
                sentence_pooling=settings.sentence_pooling,
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
            if errors and writer.empties_index():
                # Every file failed: publishing would make (or trade the index for) an
                # empty one.
                _print_skipped(errors)
                kept = (
                    "no index was created"
                    if writer.is_new
                    else "--rebuild would leave an empty index, so the current generation stays"
                )
                raise _fail(
                    f"{len(errors)} file(s) could not be indexed (listed above) and none "
                    f"could; {kept}"
                )
            embedding = bar.add_task("embedding", total=None)
            published = writer.has_changes()
            report = writer.commit_changes(
                progress=lambda done, total: bar.update(embedding, completed=done, total=total)
            )
        if cache is not None:
            cache.clear()  # committed: the checkpointed batches are no longer needed
    except DocqaError as exc:
        raise _fail(str(exc)) from exc
    finally:
        if runner is not None:
            runner.close()
    _print_skipped(errors)
    # Nothing added, updated or removed: the current generation is kept, not copied.
    state = "" if published else " (no changes; it stays current)"
    out.print(
        f"generation {report.generation}{state}: {report.documents_total} documents, "
        f"{report.passages_total} passages (added {report.documents_added}, updated "
        f"{report.documents_updated}, unchanged {report.documents_unchanged}, removed "
        f"{report.documents_removed}; embedded {report.passages_embedded} passages) "
        f"in {settings.index_dir}",
        highlight=False,
        soft_wrap=True,  # one line whatever the terminal's width: scripts read it
    )
    if errors:
        # Partial success still fails the command, so scripts notice skipped files.
        rest = (
            "the other files are indexed"
            if report.documents_added + report.documents_updated + report.documents_unchanged
            else "no file was indexed; the index is as it was"
        )
        raise _fail(f"{len(errors)} file(s) could not be indexed (listed above); {rest}")


def _print_skipped(errors: Sequence[FileError]) -> None:
    for problem in errors:
        err.print(f"[yellow]skipped[/] {problem.path}: {problem.reason}", highlight=False)


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


Question = Annotated[str, typer.Argument(help="The question.")]
TopK = Annotated[int, typer.Option("--top-k", "-k", min=1, max=100)]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (the HTTP API's shape).")]
ModeOption = Annotated[str | None, typer.Option(help="dense, lexical or hybrid.")]
Tags = Annotated[list[str] | None, typer.Option(help="Only documents with this tag.")]
DateFrom = Annotated[str | None, typer.Option(help="Only documents dated on/after.")]
DateTo = Annotated[str | None, typer.Option(help="Only documents dated on/before.")]
Server = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="Ask this running `docqa serve` (http://host:port) instead of loading models "
        "(default: setting DOCQA_SERVER_URL).",
    ),
]


def _request(
    question: str,
    top_k: int,
    mode: str | None,
    tags: list[str] | None,
    date_from: str | None,
    date_to: str | None,
) -> dict[str, object]:
    body: dict[str, object] = {"query": question, "top_k": top_k}
    if mode:
        body["mode"] = mode
    if tags or date_from or date_to:
        body["filters"] = {"tags": tags or None, "date_from": date_from, "date_to": date_to}
    return body


def _remote(settings: Settings, server: str, path: str, body: dict[str, object]) -> Payload:
    from docqa.remote import post

    try:
        return post(server, path, body, settings.server_key, settings.server_timeout)
    except DocqaError as exc:
        raise _fail(str(exc)) from exc


def _local_search(
    settings: Settings,
    question: str,
    top_k: int,
    mode: str | None,
    tags: list[str] | None,
    date_from: str | None,
    date_to: str | None,
) -> SearchResult:
    # Only retrieval is loaded: the encoders' question graphs and the index.
    from docqa.wiring import load_retriever
    from index.filters import MetadataFilter
    from retriever.types import Mode

    try:
        chosen = Mode(mode) if mode else None
    except ValueError as exc:
        raise _fail(f"--mode must be one of dense, lexical, hybrid; got {mode!r}") from exc
    try:
        filters = MetadataFilter(tags=tuple(tags or ()), date_from=date_from, date_to=date_to)
        return load_retriever(settings).search(question, top_k, chosen, filters)
    except DocqaError as exc:
        raise _fail(str(exc)) from exc


@app.command("search")
def search_command(
    question: Question,
    top_k: TopK = 5,
    as_json: AsJson = False,
    mode: ModeOption = None,
    tag: Tags = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    answers: Annotated[
        bool, typer.Option(help="Mark the answer span in every hit (span model).")
    ] = False,
    server: Server = None,
    index_dir: IndexDir = None,
) -> None:
    """Rank the index's passages for a question."""
    if answers:
        # Imported only here: a plain search through a server loads no numpy.
        from retriever.answer.choice import MAX_MARKED_HITS

        if top_k > MAX_MARKED_HITS:
            raise _fail(
                f"--answers marks at most {MAX_MARKED_HITS} hits; "
                f"use --top-k {MAX_MARKED_HITS} or less"
            )
    settings = _settings(index_dir)
    body = _request(question, top_k, mode, tag, date_from, date_to)
    url = server or settings.server_url
    if url:
        payload = _remote(settings, url, "/v1/search", {**body, "answers": answers})
    else:
        from docqa.wiring import load_answer_extractor
        from retriever.answer.choice import marked_hits

        result = _local_search(settings, question, top_k, mode, tag, date_from, date_to)
        hits = (
            marked_hits(load_answer_extractor(settings), result.query, result.hits)
            if answers
            else result.hits
        )
        payload = {
            "query": result.query,
            "mode": result.mode.value,
            "generation": result.generation,
            "results": [hit_payload(h) for h in hits],
        }
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    title = f"{payload['query']}  ({payload['mode']}, generation {payload['generation']})"
    out.print(hits_table(title, payload["results"], answers))


@app.command("ask")
def ask_command(
    question: Question,
    top_k: TopK = 5,
    as_json: AsJson = False,
    mode: ModeOption = None,
    tag: Tags = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    server: Server = None,
    index_dir: IndexDir = None,
) -> None:
    """Answer a question from the top passages, citing where the answer is."""
    settings = _settings(index_dir)
    body = _request(question, top_k, mode, tag, date_from, date_to)
    url = server or settings.server_url
    if url:
        payload = _remote(settings, url, "/v1/ask", body)
    else:
        from docqa.wiring import found_rule, load_answer_extractor
        from retriever.answer.retrieve_read import read_now

        result = _local_search(settings, question, top_k, mode, tag, date_from, date_to)
        # Only the reader the question and passages need is loaded (see Readers).
        extractor = load_answer_extractor(settings)
        done = read_now(extractor, result, result.query, found_rule(settings))
        payload = {
            "query": result.query,
            "mode": result.mode.value,
            "generation": result.generation,
            "found": done.found,
            # As /v1/ask: no answer when the documents do not seem to hold one.
            "answer": answer_payload(done.answer) if done.found else None,
            "passages": [hit_payload(h) for h in done.hits],
        }
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    answer = payload.get("answer")
    if answer is None and not payload["passages"]:
        out.print("[bold]no answer[/]: the index has no matching passage")
    elif answer is None:
        out.print("[bold]no answer found[/] in the indexed documents; the closest passages:")
    else:
        from retriever.answer.choice import listed

        label = "answer" if not answer["fallback"] else f"answer ({answer['kind']}, fallback)"
        # Every answer span the passage gives ("Wu Wei and Chen Xinjian"); a server older
        # than answer.spans sends the one answer text.
        named = listed([s["text"] for s in answer.get("spans") or [answer]])
        out.print(f"[bold]{label}:[/] {named}  [{answer['citation']}]", highlight=False)
    title = f"{payload['query']}  ({payload['mode']}, generation {payload['generation']})"
    out.print(hits_table(title, payload["passages"], answers=True))


@app.command("eval")
def eval_command(
    qa_file: Annotated[
        Path,
        typer.Argument(
            help="CSV (question, answers, document) or JSON lines of questions with their "
            "expected answers; no answers: should not be found (docs/evaluation.md)."
        ),
    ],
    top_k: TopK = 5,
    mode: ModeOption = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the report as JSON to this file.")
    ] = None,
    errors_csv: Annotated[
        Path | None,
        typer.Option("--errors-csv", help="Write one CSV line per question: what went wrong."),
    ] = None,
    index_dir: IndexDir = None,
) -> None:
    """Score the index on your own questions: recall, EM/F1, found accuracy, latency."""
    from rich.progress import Progress

    from docqa.eval_report import report_payload, summary_table, write_json, write_questions_csv
    from docqa.evaluation import evaluate, summarize
    from docqa.qa_file import QAFileError, QALimits, read_qa_file

    settings = _settings(index_dir)
    limits = QALimits(settings.eval_max_questions, settings.max_query_chars)
    try:
        items = read_qa_file(qa_file, limits)
    except QAFileError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from exc
    try:
        answerer = _local_answerer(settings, top_k, mode)
        answerer(items[0].question)  # warm-up, untimed: first-call costs are not latency
        with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
            task = bar.add_task("evaluating", total=len(items))
            scored = evaluate(items, answerer, on_question=lambda _s: bar.advance(task))
    except DocqaError as exc:
        raise _fail(str(exc)) from exc
    summary = summarize(scored, top_k)
    out.print(summary_table(summary, f"{qa_file.name} over {settings.index_dir}"))
    try:
        if json_out is not None:
            write_json(json_out, report_payload(summary, scored))
            out.print(f"report: {json_out}", highlight=False)
        if errors_csv is not None:
            write_questions_csv(errors_csv, scored)
            out.print(f"per question: {errors_csv}", highlight=False)
    except OSError as exc:
        raise _fail(f"cannot write {exc.filename}: {exc.strerror}") from exc


def _local_answerer(settings: Settings, top_k: int, mode: str | None) -> LocalAnswerer:
    """Retrieve-then-read as ``docqa ask`` and ``/v1/ask`` do, the readers loaded up front."""
    from docqa.evaluation import LocalAnswerer
    from docqa.wiring import found_rule, load_answer_extractor, load_retriever
    from retriever.types import Mode

    try:
        chosen = Mode(mode) if mode else None
    except ValueError as exc:
        raise _fail(f"--mode must be one of dense, lexical, hybrid; got {mode!r}") from exc
    extractor = load_answer_extractor(settings.model_copy(update={"preload_readers": True}))
    return LocalAnswerer(load_retriever(settings), extractor, top_k, chosen, found_rule(settings))


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
