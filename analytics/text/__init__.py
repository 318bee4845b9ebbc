"""Text features at Rust speed: scikit-learn's word vectorizers, same matrices, polars tokenisation."""

from analytics.text.vectorizers import CountVectorizer, TfidfVectorizer

__all__ = ["CountVectorizer", "TfidfVectorizer"]
