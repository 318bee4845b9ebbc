"""The one text recipe every embedder sees, and the version strings that name the vectors."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.embeddings import UnknownEmbedder, embedder_version, paper_text
from analytics.embeddings.base import TEXT_RECIPE, l2_normalize


def test_paper_text_joins_title_and_abstract() -> None:
    assert paper_text("A  title", " An\nabstract. ") == "A title. An abstract."
    assert paper_text("Why?", "Because.") == "Why? Because."
    assert paper_text(None, "Only abstract") == "Only abstract"
    assert paper_text("Only title", None) == "Only title"
    assert paper_text(None, None) == ""


def test_versions_name_model_and_recipe() -> None:
    fast, accurate = embedder_version("fast"), embedder_version("accurate")
    assert fast != accurate
    assert fast.endswith(TEXT_RECIPE) and accurate.endswith(TEXT_RECIPE)
    with pytest.raises(UnknownEmbedder, match="fast, accurate"):
        embedder_version("huge")


def test_l2_normalize_keeps_zero_rows() -> None:
    out = l2_normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])
