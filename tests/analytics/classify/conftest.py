"""Synthetic papers and a tiny deterministic embedder, so classifier tests run in seconds without model files."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import orjson
import polars as pl
import pytest

from analytics.embeddings.base import Embedder, l2_normalize

TEMPLATES = {
    "machine_translation": ("Neural machine translation for {x}", "We translate {x} sentences between languages "
                            "with a bilingual model and report BLEU on parallel corpora."),
    "protein": ("Protein structure prediction with {x}", "We model protein sequences and amino acids to predict "
                "protein folding and binding affinity."),
    "language_model": ("Large language models and {x}", "We study pretrained language models, in-context learning "
                       "and instruction tuning of LLMs."),
    "reliability_security": ("Adversarial attacks on {x}", "We craft adversarial examples and backdoor poisoning "
                             "attacks, and evaluate adversarial robustness defences."),
    None: ("Magnetic order in {x}", "We measure the phonon spectrum and the superconducting gap of the crystal "
           "lattice at low temperature."),
}
FILLER = ["graphs", "networks", "signals", "tables", "images", "forests", "streams", "kernels", "galaxies", "fluids"]


class HashEmbedder(Embedder):
    """Bag of hashed words in 64 dimensions: deterministic, instant, good enough to learn from."""

    name, version, dim = "fast", "test-hash-64", 64

    def encode(self, texts, batch_size: int = 256, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                h = int.from_bytes(hashlib.blake2b(word.strip(".,;").encode(), digest_size=4).digest(), "little")
                out[i, h % self.dim] += 1.0
        return l2_normalize(out)


def synthetic_records(n: int, seed: int = 0, prefix: str = "2401") -> list[dict]:
    """Kaggle-shaped records: each of five kinds (four topics and physics) with random filler words."""
    rng = random.Random(seed)
    kinds = list(TEMPLATES)
    records = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        title, abstract = TEMPLATES[kind]
        x = " ".join(rng.sample(FILLER, 2))
        cat = {"protein": "q-bio.BM", None: "cond-mat.str-el"}.get(kind, "cs.CL")
        records.append({"id": f"{prefix}.{i:05d}", "title": title.format(x=x), "abstract": abstract.format(x=x),
                        "categories": cat, "versions": [{"version": "v1", "created": "Mon, 8 Jan 2024 10:00:00 GMT"}],
                        "x_kind": kind})
    return records


def write_jsonl(path, records) -> None:
    path.write_bytes(b"".join(orjson.dumps({k: v for k, v in r.items() if k != "x_kind"}) + b"\n" for r in records))


def frame_of(records) -> pl.DataFrame:
    return pl.DataFrame({"title": [r["title"] for r in records], "abstract": [r["abstract"] for r in records],
                         "categories": [[r["categories"]] for r in records]})


@pytest.fixture(scope="session")
def embedder() -> HashEmbedder:
    return HashEmbedder()
