"""Build a new index generation from the current one: add, update and remove documents.

Only new or changed paragraphs are embedded; unchanged ones keep their vectors.
Nothing is visible to readers until :meth:`IndexWriter.commit` publishes the
generation in one atomic step.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import numpy as np

from index.encoders.base import Encoder, Vectors
from index.encoders.sentence_pooling import SentencePooling
from index.encoders.specs import as_encoders, specs_of
from index.errors import ExtractionError, IndexMismatchError
from index.formats.dehyphenate import search_text
from index.formats.extracted import Extracted, Heading, PageSpan
from index.ids import content_hash, passage_id
from index.lifecycle import generation as gen
from index.lifecycle.manifest import FORMAT_VERSION, Manifest
from index.lifecycle.version import package_version
from index.models import DocumentInput, Passage
from index.passages.bounds import PassageLimits, bound_spans
from index.passages.sentences import sentence_spans
from index.passages.splitter import ParagraphSpan, split_paragraphs
from index.stores.base import AnnPolicy, RowFields, VectorStore, VectorWriter
from index.stores.faiss_store import FaissStore
from index.stores.lexical import build_lexical
from index.stores.passages import STORE_NAME, PassageStore
from index.stores.sentence_vectors import SentenceVectors, sentences_to_embed

Progress = Callable[[int, int], None]
Check = Callable[[], None]


@dataclass(frozen=True)
class IngestReport:
    """What one commit changed, in counts."""

    generation: int
    documents_added: int
    documents_updated: int
    documents_unchanged: int
    documents_removed: int
    passages_embedded: int
    passages_reused: int
    passages_removed: int
    passages_total: int
    documents_total: int


def _document_hash(doc: DocumentInput) -> str:
    return content_hash(
        json.dumps(
            [
                doc.text,
                doc.title,
                doc.source,
                doc.metadata,
                doc.pages,
                doc.headings,
                doc.passages,
                content_hash(json.dumps(doc.boxes)) if doc.boxes else "",
            ],
            sort_keys=True,
            default=str,
            ensure_ascii=False,
        )
    )


def _paragraphs(doc: DocumentInput) -> list[ParagraphSpan]:
    """The reader's passage spans when it chose them, else the text cut at blank lines."""
    if not doc.passages:
        return split_paragraphs(doc.text)
    return [
        ParagraphSpan(number, start, end, doc.text[start:end])
        for number, (start, end) in enumerate(doc.passages)
    ]


def _layout(doc: DocumentInput) -> Extracted:
    return Extracted(
        text=doc.text,
        title=doc.title,
        pages=tuple(PageSpan(n, s, e) for n, s, e in doc.pages),
        headings=tuple(Heading(s, t) for s, t in doc.headings),
    )


def _chunks(texts: list[str], most: int, chars: int | None) -> Iterator[list[str]]:
    """``texts`` in order, in chunks of at most ``most`` texts and, given ``chars``, at
    most that many characters (at least one text each)."""
    chunk: list[str] = []
    size = 0
    for text in texts:
        if chunk and (len(chunk) >= most or (chars is not None and size + len(text) > chars)):
            yield chunk
            chunk, size = [], 0
        chunk.append(text)
        size += len(text)
    if chunk:
        yield chunk


class IndexWriter:
    """Stage changes against a copy of the current generation, then publish atomically."""

    def __init__(
        self,
        index_dir: Path,
        encoders: Encoder | Sequence[Encoder],
        *,
        rebuild: bool = False,
        batch_size: int = 32,
        ann: AnnPolicy | None = None,
        sentence_vectors: bool = True,
        sentence_pooling: bool = True,
        vector_store: VectorStore | None = None,
        embed_chunk: int | None = None,
        limits: PassageLimits | None = None,
    ) -> None:
        # ``vector_store``: where passage vectors live (default: FAISS files in each
        # generation). ``embed_chunk``: texts per encoder call (default four batches); a
        # parallel encoder wants several batches per worker in each call.
        # ``sentence_vectors``: whether a new (or rebuilt) index embeds each passage's
        # sentences for the second stage; an existing index keeps the choice it was
        # built with (its manifest says which), so its files stay in step.
        # ``sentence_pooling``: sentence vectors pooled from the passage pass's token
        # states where every encoder offers it (``index.encoders.sentence_pooling``), instead of
        # encoding each sentence again; encoders that cannot pool encode them.
        self.index_dir = index_dir
        self._encoders = as_encoders(encoders)
        self._specs = specs_of(self._encoders)
        self._rebuild = rebuild
        self._batch_size = batch_size
        self._ann = ann or AnnPolicy()
        self._vector_store: VectorStore = vector_store or FaissStore()
        self._embed_chunk = embed_chunk or max(1, batch_size * 4)
        self._fields: dict[int, RowFields] = {}  # pending vector id -> its filter fields
        self._retag: dict[int, RowFields] = {}  # kept vector id -> its document's new fields
        self._with_sentences = sentence_vectors
        self._sentence_pooling = sentence_pooling
        self._limits = limits or PassageLimits()
        self._stack = ExitStack()
        self._pending: dict[int, str] = {}  # vector id -> text still to embed
        self._removed_vectors: list[int] = []
        self._counts = {"added": 0, "updated": 0, "unchanged": 0, "removed": 0, "reused": 0}

    def __enter__(self) -> IndexWriter:
        try:
            self._open()
        except BaseException:
            # __exit__ does not run when __enter__ raises: release the lock and remove
            # the staging folder here (a mismatched manifest, a full disk, ...).
            self._stack.close()
            raise
        return self

    def _open(self) -> None:
        self._stack.enter_context(gen.writer_lock(self.index_dir))
        gen.collect_garbage(self.index_dir)
        committed = gen.current_generation(self.index_dir)
        self._vector_store.begin(self.index_dir, self._specs, committed)
        previous = None if self._rebuild else committed
        self._committed = committed
        self._previous = previous
        self._generation = (committed or 0) + 1
        self._staging = gen.staging_dir(self.index_dir, self._generation)
        self._stack.callback(shutil.rmtree, self._staging, True)
        if previous is None:
            self._dense: list[VectorWriter] = [
                self._vector_store.writer(spec, self._generation, None) for spec in self._specs
            ]
            self._sentences = SentenceVectors.empty(self._specs)
        else:
            source = gen.generation_dir(self.index_dir, previous)
            manifest = Manifest.read(source)
            manifest.check_compatible(self._specs)
            self._with_sentences = manifest.sentence_vectors
            # One kind of sentence vector per index: an update keeps the one it was built with.
            self._sentence_pooling = manifest.sentence_pooling
            for spec in self._specs:
                self._vector_store.check_kind(source, spec, manifest.vector_index)
            shutil.copyfile(source / STORE_NAME, self._staging / STORE_NAME)
            self._dense = [
                self._vector_store.writer(spec, self._generation, source) for spec in self._specs
            ]
            self._sentences = SentenceVectors.read(source, self._specs)
        self.store = PassageStore(self._staging / STORE_NAME, read_only=False)
        self._stack.callback(self.store.close)
        self._next_vector_id = self.store.next_vector_id()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    def upsert(self, doc: DocumentInput) -> str:
        """Stage a document; returns ``"added"``, ``"updated"`` or ``"unchanged"``."""
        doc_hash = _document_hash(doc)
        paragraphs = bound_spans(doc.text, _paragraphs(doc), self._limits.max_paragraph_chars)
        if len(paragraphs) > self._limits.max_passages:
            raise ExtractionError(
                doc.source,
                f"{len(paragraphs)} passages; the limit per file is "
                f"{self._limits.max_passages} (DOCQA_MAX_FILE_PASSAGES)",
            )
        old_hash = self.store.document_hash(doc.document_id)
        if old_hash == doc_hash:
            self._counts["unchanged"] += 1
            return "unchanged"
        reusable = self.store.passage_hashes(doc.document_id)
        self.store.delete_document(doc.document_id)
        self.store.put_document(doc, doc_hash)
        layout = _layout(doc)
        fields = RowFields.of(doc.document_id, doc.metadata)
        seen: set[str] = set()
        for paragraph in paragraphs:
            digest = content_hash(paragraph.text)
            if digest in seen:  # identical paragraphs are stored once per document
                continue
            seen.add(digest)
            vector_id = reusable.pop(digest, None)
            if vector_id is None:
                vector_id = self._next_vector_id
                self._next_vector_id += 1
                self._pending[vector_id] = paragraph.text
                self._fields[vector_id] = fields
            else:
                self._counts["reused"] += 1
                self._retag[vector_id] = fields  # the metadata may have changed
            number = len(seen) - 1
            self.store.put_passage(
                Passage(
                    vector_id=vector_id,
                    passage_id=passage_id(doc.document_id, number),
                    document_id=doc.document_id,
                    paragraph=number,
                    char_start=paragraph.char_start,
                    char_end=paragraph.char_end,
                    text=paragraph.text,
                    title=doc.title,
                    source=doc.source,
                    section=layout.heading_before(paragraph.char_start),
                    page=layout.page_at(paragraph.char_start),
                ),
                digest,
            )
        self._drop_vectors(list(reusable.values()))
        state = "added" if old_hash is None else "updated"
        self._counts[state] += 1
        return state

    def remove(self, document_id: str) -> bool:
        """Stage the removal of a document; False when it was not indexed."""
        if self.store.document_hash(document_id) is None:
            return False
        self._drop_vectors(self.store.delete_document(document_id))
        self._counts["removed"] += 1
        return True

    def _drop_vectors(self, vector_ids: list[int]) -> None:
        for vector_id in vector_ids:
            self._retag.pop(vector_id, None)
            self._fields.pop(vector_id, None)
            if self._pending.pop(vector_id, None) is None:
                self._removed_vectors.append(vector_id)

    def indexed_sources(self) -> dict[str, str]:
        """``document_id -> source`` of every document in the staged generation."""
        return {info.document_id: info.source for info in self.store.documents()}

    def _pools_sentences(self) -> bool:
        """Whether sentence vectors come from the passage pass: asked for, and every
        encoder can pool them (``index.encoders.sentence_pooling``)."""
        return (
            self._with_sentences
            and self._sentence_pooling
            and all(isinstance(e, SentencePooling) for e in self._encoders)
        )

    def _batch_for(self, texts: list[str]) -> int:
        """Texts per encoder batch: fewer when they are long.

        An encoder's memory grows with batch size x window length squared (attention);
        32 windows of 512 tokens cost e5 close to 1 GB, so a batch holds at most
        ``max_batch_tokens`` (estimated at 3 characters a token). A text longer than one
        window counts whole: e5 embeds every 512-token window of it in the same batch.
        """
        longest = max((len(t) for t in texts), default=0)
        tokens = longest // 3 + 2
        return max(1, min(self._batch_size, self._limits.max_batch_tokens // tokens))

    def _embed_pending(self, progress: Progress | None, check: Check | None) -> None:
        # Identical texts (across documents) are embedded once; longest first keeps
        # padding inside each batch small.
        by_text: dict[str, list[int]] = {}
        for vector_id, text in self._pending.items():
            by_text.setdefault(text, []).append(vector_id)
        texts = sorted(by_text, key=len, reverse=True)
        step = self._embed_chunk
        # Sentence vectors from the passage pass when every encoder can pool them.
        pooled = self._pools_sentences()
        sentence_texts = sentences_to_embed(texts) if self._with_sentences and not pooled else []
        sentences = len(sentence_texts)
        total = (len(texts) + sentences) * len(self._encoders)
        # Split once: every encoder pools the same spans, and the rows stored are these.
        spans_of = {text: sentence_spans(text) for text in texts} if pooled else {}
        # With a budget to check, chunks of long passages hold about two batches' worth of
        # characters, so the check comes every few seconds; without one, whole batches.
        budget_chars = self._limits.max_batch_tokens * 3 * 2 if check is not None else None
        done = 0
        embedded: dict[str, dict[str, Vectors]] = {}
        in_sentences: dict[str, dict[str, Vectors]] = {}
        for encoder, dense in zip(self._encoders, self._dense, strict=True):
            known = embedded.setdefault(encoder.name, {})
            for chunk in _chunks(texts, step, budget_chars):
                if check is not None:
                    check()
                if pooled:
                    # Pooled sentence rows are raw-text offsets, so this pass embeds the
                    # stored text; BM25 still sees the dehyphenated text.
                    assert isinstance(encoder, SentencePooling)
                    spans = [spans_of[t] for t in chunk]
                    vectors, flat = encoder.encode_passages_pooled(
                        chunk, spans, batch_size=self._batch_for(chunk)
                    )
                    ends = np.cumsum([len(found) for found in spans])[:-1]
                    found_sentences = in_sentences.setdefault(encoder.name, {})
                    found_sentences.update(zip(chunk, np.split(flat, ends), strict=True))
                else:
                    vectors = encoder.encode_passages(
                        [search_text(text) for text in chunk],
                        batch_size=self._batch_for(chunk),
                    )
                known.update(zip(chunk, vectors, strict=True))
                ids = [vid for text in chunk for vid in by_text[text]]
                rows = np.repeat(np.arange(len(chunk)), [len(by_text[t]) for t in chunk])
                dense.add(ids, np.ascontiguousarray(vectors[rows]), [self._fields[i] for i in ids])
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        passages_done = done
        if pooled:
            self._sentences.add_pooled(by_text, spans_of, in_sentences, embedded)
            return

        def _tick(done: int) -> None:
            if check is not None:
                check()  # the sentence stage reports once per chunk: a place to stop
            if progress is not None:
                progress(done, total)

        if not self._with_sentences:
            return
        self._sentences.add(
            by_text,
            self._encoders,
            embedded,
            batch_size=self._batch_for(sentence_texts[:1]),  # longest first
            step=self._embed_chunk,
            progress=lambda n: _tick(passages_done + n),
        )

    def has_changes(self) -> bool:
        """Whether a commit would publish anything new.

        False only when updating an existing generation and no document was added,
        updated or removed; a new or rebuilt index always has something to publish.
        """
        changed = self._counts["added"] + self._counts["updated"] + self._counts["removed"]
        return self._previous is None or changed > 0

    def empties_index(self) -> bool:
        """Whether a commit would publish an index with no documents in place of an
        update: a rebuild, or a first index, that staged no document (every file failed,
        say). An update keeps the documents it had."""
        if self._previous is not None:
            return False
        return self.store.count_documents() == 0

    @property
    def is_new(self) -> bool:
        """Whether no generation was committed before this writer (a first index)."""
        return self._committed is None

    def commit_changes(
        self, progress: Progress | None = None, check: Check | None = None
    ) -> IngestReport:
        """:meth:`commit` when :meth:`has_changes`; else publish nothing and report the
        current generation, which stays ``CURRENT``.

        An ingest whose files all failed or were unchanged would otherwise publish a copy
        of the current generation under a new number.
        """
        if self.has_changes():
            return self.commit(progress, check)
        assert self._previous is not None
        return self._report(
            self._previous, self.store.count_passages(), self.store.count_documents()
        )

    def _report(self, generation: int, passages: int, documents: int) -> IngestReport:
        return IngestReport(
            generation=generation,
            documents_added=self._counts["added"],
            documents_updated=self._counts["updated"],
            documents_unchanged=self._counts["unchanged"],
            documents_removed=self._counts["removed"],
            passages_embedded=len(self._pending),
            passages_reused=self._counts["reused"],
            passages_removed=len(self._removed_vectors),
            passages_total=passages,
            documents_total=documents,
        )

    def commit(
        self,
        progress: Progress | None = None,
        check: Check | None = None,
        before_publish: Callable[[], None] | None = None,
    ) -> IngestReport:
        """Embed what changed, write every file of the generation, publish it.

        Args:
            progress: Called with (done, total) texts embedded.
            check: Called between encoder chunks; it raises to stop the commit (a
                cancelled upload, a spent time budget), and nothing is published.
            before_publish: Called once every file of the generation is written, just
                before it becomes ``CURRENT`` (uploads move their files into place here).
        """
        by_document: dict[str, tuple[RowFields, list[int]]] = {}
        for vector_id, fields in self._retag.items():
            by_document.setdefault(fields.document_id, (fields, []))[1].append(vector_id)
        for dense in self._dense:
            dense.remove(self._removed_vectors)
            for fields, ids in by_document.values():
                dense.retag(ids, fields)
        self._sentences.remove(self._removed_vectors)
        self._embed_pending(progress, check)
        self.store.set_next_vector_id(self._next_vector_id)
        self.store.commit()
        count = self.store.count_passages()
        if any(dense.count != count for dense in self._dense) or (
            self._with_sentences and self._sentences.passage_count() != count
        ):
            raise IndexMismatchError(
                f"internal error: {[d.count for d in self._dense]} vectors and sentences of "
                f"{self._sentences.passage_count()} passages for {count} passages; "
                "nothing was committed"
            )
        documents = self.store.count_documents()
        kinds = [dense.finish(self._staging, self._ann) for dense in self._dense]
        self._sentences.write(self._staging)
        build_lexical(self.store.iter_passages(), self._staging)
        Manifest(
            format_version=FORMAT_VERSION,
            package_version=package_version(),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
            generation=self._generation,
            model=self._specs[0].name,
            dimension=self._specs[0].dimension,
            count=count,
            documents=documents,
            normalized=True,
            metric="inner_product",
            vector_index=";".join(sorted(set(kinds))),  # the vector index, FAISS or Milvus
            lexical=True,
            encoders=[{"name": s.name, "dimension": s.dimension} for s in self._specs],
            sentences=self._sentences.count,
            sentence_vectors=self._with_sentences,
            sentence_pooling=self._pools_sentences(),
        ).write(self._staging)
        self.store.close()
        if before_publish is not None:
            before_publish()
        gen.publish(self.index_dir, self._staging, self._generation)
        gen.collect_garbage(self.index_dir)
        self._vector_store.collect_garbage(self.index_dir, self._specs, self._generation)
        return self._report(self._generation, count, documents)
