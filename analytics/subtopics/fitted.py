"""A fitted subtopic model as plain arrays: papers are assigned, and keywords found per year, without BERTopic.

What a BERTopic fit leaves that assigning and describing need is small: one embedding per subtopic, the
c-TF-IDF matrix of the subtopics, the idf of its words and the fitted word counter. Applied with numpy:

- ``assign`` gives each paper the subtopic whose embedding is most cosine-similar (what BERTopic's transform
  does for a zero-shot model; the unit vectors are computed as scikit-learn's ``cosine_similarity`` does);
- ``period_keywords`` is BERTopic's ``topics_over_time`` with global tuning: the c-TF-IDF of each subtopic's
  papers of one year, averaged with the subtopic's overall c-TF-IDF, its top words. Documents are cleaned
  as BERTopic cleans them, counted one by one (BERTopic counts each group as one joined text, so a bigram
  spanning two abstracts can count there and not here) and, for a big group, from a fixed-seed sample of
  ``PERIOD_SAMPLE`` of its papers (the ``papers`` column always counts all of them).

Saved as one ``.npz`` (no pickle) that loads in milliseconds, against seconds to import BERTopic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import polars as pl
import scipy.sparse as sp

from analytics.text import CountVectorizer

ARRAYS_FILE = "subtopics.npz"
ASSIGN_BATCH = 65_536  # papers per similarity block: bounds the (papers x subtopics) matrix
PERIOD_SAMPLE = 2_000  # papers per (subtopic, year) whose words are counted for that year's keywords
PERIOD_WORDS = 5  # keywords per subtopic and year (as topics_over_time)
PERIOD_BATCH = 20_000  # papers whose words are counted at once


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length as scikit-learn's ``normalize`` does (float32 norms, zero rows kept)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", vectors, vectors))
    norms[norms == 0.0] = 1.0
    return vectors / norms[:, np.newaxis]


def _l1_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    sums = np.asarray(abs(matrix).sum(axis=1)).ravel()
    sums[sums == 0.0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / sums) @ matrix)


def bertopic_clean(docs: Sequence[str]) -> list[str]:
    """What BERTopic's c-TF-IDF counts of a text: tabs and newlines as spaces, only ASCII letters, digits, spaces."""
    return (pl.Series(list(docs), dtype=pl.String).str.replace_all(r"[\n\t]", " ")
            .str.replace_all(r"[^A-Za-z0-9 ]+", "").to_list())


@dataclass
class FittedSubtopics:
    """Row ``r`` of ``topic_vectors`` and ``ctfidf`` is subtopic ``r - outliers`` (row 0 is -1 when outliers)."""

    topic_vectors: np.ndarray  # (rows, dim) float32, unit length
    outliers: int
    ctfidf: sp.csr_matrix  # (rows, terms) BERTopic's c_tf_idf_
    idf: np.ndarray  # (terms,) float64, the c-TF-IDF idf
    vectorizer: CountVectorizer

    @classmethod
    def from_bertopic(cls, model) -> "FittedSubtopics":
        """The arrays of a fitted ``BERTopic`` (its vectorizer must be ``analytics.text.CountVectorizer``)."""
        return cls(topic_vectors=unit_rows(model.topic_embeddings_), outliers=int(model._outliers),
                   ctfidf=sp.csr_matrix(model.c_tf_idf_, dtype=np.float64),
                   idf=np.asarray(model.ctfidf_model._idf_diag.diagonal(), dtype=np.float64),
                   vectorizer=model.vectorizer_model)

    def assign(self, embeddings: np.ndarray) -> np.ndarray:
        """The id of the most similar subtopic for each row of ``embeddings`` (-1 = outlier)."""
        out = np.empty(len(embeddings), dtype=np.int64)
        for start in range(0, len(embeddings), ASSIGN_BATCH):
            block = unit_rows(embeddings[start:start + ASSIGN_BATCH])
            out[start:start + len(block)] = np.argmax(block @ self.topic_vectors.T, axis=1) - self.outliers
        return out

    def period_keywords(self, docs: Sequence[str], topics: np.ndarray, years: np.ndarray,
                        seed: int = 42) -> pl.DataFrame:
        """``subtopic, year, keywords, papers``: each subtopic's top words among its papers of each year."""
        frame = pl.DataFrame({"subtopic": np.asarray(topics, dtype=np.int64), "year": np.asarray(years, np.int32)})
        frame = frame.with_row_index("doc").with_columns(
            pl.int_range(pl.len()).shuffle(seed).over("subtopic", "year").alias("_draw"),
            pl.struct("subtopic", "year").rank("dense").cast(pl.Int64).sub(1).alias("group"))
        groups = (frame.group_by("group").agg(pl.first("subtopic"), pl.first("year"), pl.len().alias("papers"))
                  .sort("group"))
        counted = frame.filter(pl.col("_draw") < PERIOD_SAMPLE)
        doc_index, group = counted["doc"].to_numpy(), counted["group"].to_numpy()
        summed = sp.csr_matrix((groups.height, len(self.idf)))
        for start in range(0, len(doc_index), PERIOD_BATCH):  # word counts of a batch at a time: bounded memory
            part = slice(start, start + PERIOD_BATCH)
            counts = self.vectorizer.transform(bertopic_clean([docs[i] for i in doc_index[part]]))
            member = sp.csr_matrix((np.ones(counts.shape[0]), (group[part], np.arange(counts.shape[0]))),
                                   shape=(groups.height, counts.shape[0]))
            summed = summed + member @ counts.astype(np.float64)
        tf = _l1_rows(summed)  # BERTopic's ClassTfidfTransformer.transform ...
        tf.data = np.sqrt(tf.data)  # ... with reduce_frequent_words
        by_period = _l1_rows(tf @ sp.diags(self.idf))
        overall = _l1_rows(self.ctfidf)[groups["subtopic"].to_numpy() + self.outliers]
        tuned = sp.csr_matrix((by_period + overall) / 2.0)
        terms = self.vectorizer.get_feature_names_out()
        keywords = []
        for row in range(tuned.shape[0]):
            lo, hi = tuned.indptr[row], tuned.indptr[row + 1]
            scores, columns = tuned.data[lo:hi], tuned.indices[lo:hi]
            best = np.lexsort((columns, -scores))[:PERIOD_WORDS]  # highest score first, ties by term
            keywords.append([terms[columns[b]] for b in best if scores[b] > 0])
        return groups.select(
            pl.col("subtopic").cast(pl.Int64), pl.col("year").cast(pl.Int32),
            pl.Series("keywords", keywords, dtype=pl.List(pl.String)), pl.col("papers").cast(pl.Int64),
        ).sort("subtopic", "year")

    # -- persistence -----------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        np.savez(folder / ARRAYS_FILE, topic_vectors=self.topic_vectors, outliers=np.int64(self.outliers),
                 ctfidf_data=self.ctfidf.data, ctfidf_indices=self.ctfidf.indices,
                 ctfidf_indptr=self.ctfidf.indptr, ctfidf_shape=np.asarray(self.ctfidf.shape), idf=self.idf,
                 **self.vectorizer.to_arrays("vectorizer_"))

    @classmethod
    def load(cls, folder: Path) -> "FittedSubtopics":
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as arrays:
            ctfidf = sp.csr_matrix((arrays["ctfidf_data"], arrays["ctfidf_indices"], arrays["ctfidf_indptr"]),
                                   shape=tuple(arrays["ctfidf_shape"]))
            return cls(topic_vectors=arrays["topic_vectors"], outliers=int(arrays["outliers"]), ctfidf=ctfidf,
                       idf=arrays["idf"], vectorizer=CountVectorizer.from_arrays(arrays, "vectorizer_"))
