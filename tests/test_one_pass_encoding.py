"""MiniLM's passage vectors, sentence vectors and token vectors of a few texts from one forward pass equal
those of the three separate passes (what an update of a few courses uses: search.searcher)."""

from __future__ import annotations

import numpy as np

from embeddings import load_encoder
from embeddings.encoders import SentenceTransformerEncoder

TEXTS = [
    "Noting and drafting. Writing a note on a file and a fair draft.",
    "Public procurement on GeM.",
    "Managing stress at the workplace.",
    "Stress.",
]


def test_one_pass_equals_the_separate_passes() -> None:
    minilm = load_encoder("minilm")
    assert isinstance(minilm, SentenceTransformerEncoder)
    vectors, tokens = minilm.encode_passages_and_tokens(TEXTS, 2)
    np.testing.assert_allclose(vectors, minilm.encode_passages(TEXTS), atol=1e-5)
    separate = minilm.encode_passage_tokens(TEXTS[:2])
    assert len(tokens) == 2
    for got, wanted in zip(tokens, separate, strict=True):
        np.testing.assert_allclose(got, wanted, atol=1e-5)
