"""scikit-learn's word analyzer (lower-case, ``(?u)\\b\\w\\w+\\b``, stop words, word n-grams) at Rust speed.

scikit-learn tokenises one document at a time with Python's ``re``; here a whole batch is tokenised by one
polars ``extract_all``, and n-grams are formed on integer token ids with numpy. The token stream is the
same, because the two places where Rust and Python could disagree are taken from Python:

- lower-casing is Python's ``str.lower`` (Rust's tables follow a newer Unicode version for a few dozen
  characters);
- ``\\w`` is not Rust's ``\\w`` (Rust counts combining marks as word characters and Python does not; Python
  counts superscript digits and Rust does not): the pattern spells out, as explicit code point ranges,
  exactly the characters the running Python's ``re`` calls ``\\w``. A maximal run of two or more of them is
  what ``\\b\\w\\w+\\b`` finds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Sequence

import numpy as np
import polars as pl


@cache
def python_word_pattern() -> str:
    """A Rust regex matching exactly what Python's ``(?u)\\b\\w\\w+\\b`` matches (a run of 2+ word characters)."""
    points = np.concatenate([np.arange(0, 0xD800), np.arange(0xE000, 0x110000)]).astype("<u4")
    every_character = points.tobytes().decode("utf-32-le")
    runs = ((ord(m.group()[0]), ord(m.group()[-1])) for m in re.finditer(r"\w+", every_character))
    ranges = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in runs)
    return f"[{ranges}]{{2,}}"


@dataclass
class Tokens:
    """The tokens of a batch of documents, in order: ``doc[i]`` is the document of ``text[i]``."""

    doc: np.ndarray  # int64, non-decreasing
    text: pl.Series

    def ids(self, dictionary: pl.Series) -> np.ndarray:
        """Each token's index in ``dictionary`` (unique strings), -1 for a token not in it."""
        if len(dictionary) == 0:
            return np.full(len(self.text), -1, dtype=np.int64)
        return self.text.replace_strict(dictionary, pl.int_range(len(dictionary), eager=True), default=-1,
                                        return_dtype=pl.Int64).to_numpy()


def tokenize(texts: Sequence[str], pattern: str, stop_words: Sequence[str]) -> Tokens:
    """Lower-case ``texts`` with Python, find the word runs with polars, drop the stop words."""
    lowered = pl.LazyFrame({"text": [text.lower() for text in texts]}, schema={"text": pl.String})
    words = (lowered.with_row_index("doc").select("doc", pl.col("text").str.extract_all(pattern))
             .explode("text").drop_nulls("text"))
    if stop_words:
        words = words.filter(~pl.col("text").is_in(pl.Series(stop_words, dtype=pl.String).implode()))
    found = words.collect(engine="streaming")  # the streaming engine spreads the regex work over the cores
    return Tokens(found["doc"].cast(pl.Int64).to_numpy(), found["text"])


def ngram_keys(doc: np.ndarray, ids: np.ndarray, n: int, radix: int) -> tuple[np.ndarray, np.ndarray]:
    """``(start, key)`` of every run of ``n`` consecutive tokens of one document that are all known (id >= 0):
    the index of its first token, and its ids packed in base ``radix`` (for n = 1, the id itself)."""
    count = len(ids) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ok = doc[:count] == doc[n - 1:]
    key = np.zeros(count, dtype=np.int64)
    for k in range(n):
        part = ids[k:k + count]
        ok &= part >= 0
        key = key * radix + part
    return np.flatnonzero(ok), key[ok]
