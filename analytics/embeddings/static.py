"""The ``fast`` backend: a model2vec static model distilled once from MiniLM, encoded word-wise.

model2vec's own ``encode`` spends almost all its time in the Rust tokenizer building one
``Encoding`` per document (offsets, masks, ...), about 2,000 docs/s on 2 cores. A static model
only needs the bag of token ids, and BERT tokenisation is word-local (normalise, split on
whitespace and punctuation, WordPiece each word), so this encoder

1. lower-cases ASCII text in Python (what the BERT normaliser does to ASCII) and sends any other
   text through the tokenizer's own normaliser,
2. splits a whole batch with one regular expression that mirrors ``BertPreTokenizer``,
3. WordPieces each distinct word once (cached across batches) with the tokenizer's own model,
4. pools with two sparse products: documents x words, words x tokens, tokens x vectors.

The result equals ``StaticModel.encode(texts, max_length=None)`` (no truncation; the tests check
this on real abstracts) and runs several times faster.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from itertools import groupby, repeat
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

from analytics.embeddings.base import Embedder, l2_normalize

_SEP = "\x00"  # joins the documents of a batch; the BERT normaliser removes it from any text
_ADDED = re.compile(r"(\[PAD\]|\[UNK\])")  # the tokenizer's added tokens, matched before normalising
_PAD_WORD = "\x01"  # stands for an added [PAD] token; normalised text never holds control characters
_MAX_CACHED_WORDS = 2_000_000  # bounds the word cache (about 300 MB at the limit)


def _bert_punctuation() -> list[tuple[int, int]]:
    """Code-point ranges ``BertPreTokenizer`` splits off one by one: ASCII punctuation and Unicode P*."""
    points = [c for c in range(0x110000)
              if unicodedata.category(chr(c)).startswith("P") or (32 < c < 127 and not chr(c).isalnum())]
    ranges: list[tuple[int, int]] = []
    for c in points:
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1] = (ranges[-1][0], c)
        else:
            ranges.append((c, c))
    return ranges


def _pretokenizer(ranges: list[tuple[int, int]]) -> re.Pattern[str]:
    """Words (runs of non-space, non-punctuation) and single punctuation marks, as the BERT pre-tokenizer."""
    cls = "".join(re.escape(chr(a)) + ("" if a == b else "-" + re.escape(chr(b))) for a, b in ranges)
    return re.compile(f"[^ \\t\\n\\r{_SEP}{cls}]+|[{cls}]|{_SEP}")


@cache
def _pretokenizers() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(usual, complete) patterns. Punctuation above U+FFFF keeps ``re`` from using its fast character
    table (4x slower), so the usual pattern leaves it out and texts with such characters take the other."""
    punct = _bert_punctuation()
    return _pretokenizer([r for r in punct if r[1] <= 0xFFFF]), _pretokenizer(punct)


def _has_astral(text: str) -> bool:
    return not text.isascii() and max(text) > "\uffff"


class StaticEncoder:
    """Mean-pooled static token vectors over a BERT WordPiece tokenizer, computed word-wise."""

    def __init__(self, vectors: np.ndarray, tokenizer) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.tokenizer = tokenizer
        vocab = tokenizer.get_vocab()
        self._unk_id = vocab.get("[UNK]")
        self._pad_id = vocab.get("[PAD]")
        self._reset_cache()

    def _reset_cache(self) -> None:
        # word -> row of the words x tokens matrix; row 0 is the document separator (no tokens)
        self._word_ids: dict[str, int] = {_SEP: 0}
        self._word_ptr: list[int] = [0, 0]
        self._word_tokens: list[int] = []
        self._token_csr: sp.csr_matrix | None = None

    # -- text to words ---------------------------------------------------------------------------
    def _normalize(self, text: str) -> str:
        """What the BERT normaliser makes of ``text``, cheaply for the usual plain-ASCII abstract."""
        if "[PAD]" in text or "[UNK]" in text:
            # added tokens are cut out before normalising: [PAD] stays a token, [UNK] is dropped
            parts = _ADDED.split(text)
            return " ".join(_PAD_WORD if p == "[PAD]" else "" if p == "[UNK]" else self._normalize(p)
                            for p in parts)
        if text.isascii() and text.isprintable():  # no control characters, tabs or newlines
            return text.lower()
        return self.tokenizer.normalizer.normalize_str(text)

    def _words(self, texts: list[str]) -> list[str]:
        """All words of the batch in order, documents separated by ``_SEP``."""
        usual, complete = _pretokenizers()
        words: list[str] = []
        normalized = (self._normalize(t) for t in texts)
        for i, (astral, group) in enumerate(groupby(normalized, key=_has_astral)):
            if i:
                words.append(_SEP)
            words.extend((complete if astral else usual).findall(_SEP.join(group)))
        return words

    # -- words to tokens -------------------------------------------------------------------------
    def _add_words(self, words: set[str]) -> None:
        model = self.tokenizer.model
        for word in sorted(words):
            if word == _PAD_WORD:
                ids = [self._pad_id]
            else:
                ids = [t.id for t in model.tokenize(word) if t.id != self._unk_id]
            self._word_ids[word] = len(self._word_ptr) - 1
            self._word_tokens.extend(ids)
            self._word_ptr.append(len(self._word_tokens))
        self._token_csr = None

    def _word_matrix(self, words: list[str]) -> sp.csr_matrix:
        """Documents x known words (counts) for one batch of words separated by ``_SEP``."""
        if len(self._word_ids) > _MAX_CACHED_WORDS:
            self._reset_cache()
        ids = np.fromiter(map(self._word_ids.get, words, repeat(-1)), dtype=np.int64, count=len(words))
        missing = np.flatnonzero(ids < 0)
        if missing.size:
            self._add_words({words[i] for i in missing})
            ids[missing] = [self._word_ids[words[i]] for i in missing]
        seps = np.flatnonzero(ids == 0)
        bounds = np.concatenate(([-1], seps, [len(ids)]))
        counts = np.diff(bounds) - 1
        indptr = np.concatenate(([0], np.cumsum(counts)))
        kept = ids[ids != 0]
        n_words = len(self._word_ptr) - 1
        return sp.csr_matrix((np.ones(len(kept), np.float32), kept, indptr), shape=(len(counts), n_words))

    def _token_matrix(self) -> sp.csr_matrix:
        """Known words x tokens (counts), rebuilt only after new words were added."""
        if self._token_csr is None:
            ptr = np.asarray(self._word_ptr, dtype=np.int64)
            tokens = np.asarray(self._word_tokens, dtype=np.int64)
            self._token_csr = sp.csr_matrix((np.ones(len(tokens), np.float32), tokens, ptr),
                                            shape=(len(ptr) - 1, len(self.vectors)))
        return self._token_csr

    # -- public ----------------------------------------------------------------------------------
    def tokens_of(self, text: str) -> list[int]:
        """The token ids this encoder pools for ``text`` (in order; for tests and debugging)."""
        words = [w for w in self._words([text]) if w != _SEP]
        self._add_words({w for w in words if w not in self._word_ids})
        out: list[int] = []
        for w in words:
            i = self._word_ids[w]
            out.extend(self._word_tokens[self._word_ptr[i]:self._word_ptr[i + 1]])
        return out

    def encode(self, texts: list[str], batch_size: int = 4096, progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.vectors.shape[1]), dtype=np.float32)
        starts = range(0, len(texts), batch_size)
        for start in tqdm(starts, disable=not progress, desc="embed (fast)", unit="batch"):
            batch = list(texts[start:start + batch_size])
            docs_words = self._word_matrix(self._words(batch))
            counts = docs_words @ self._token_matrix()  # documents x tokens; the mean's scale vanishes in L2
            out[start:start + len(batch)] = l2_normalize(counts @ self.vectors)
        return out


class StaticEmbedder(Embedder):
    """The ``fast`` embedder: a distilled model2vec model behind :class:`StaticEncoder`."""

    def __init__(self, model_dir: Path, name: str, version: str) -> None:
        from model2vec import StaticModel

        model = StaticModel.from_pretrained(model_dir)
        if model.token_mapping is not None or model.weights is not None:
            raise ValueError(f"{model_dir}: vocabulary-quantised model2vec models are not supported")
        self.name, self.version = name, version
        self.model_dir = Path(model_dir)
        self.encoder = StaticEncoder(model.embedding, model.tokenizer)
        self.dim = int(model.embedding.shape[1])

    def encode(self, texts: list[str], batch_size: int = 4096, progress: bool = False) -> np.ndarray:
        return self.encoder.encode(texts, batch_size=batch_size, progress=progress)
