"""Text normalisation shared by fill-in scoring and duplicate detection."""
from __future__ import annotations

import unicodedata


def normalize_answer(text: str) -> str:
    """Fold full-/half-width forms (NFKC), drop whitespace and punctuation, lower-case.

    `５年`, `5 年` and `5年。` all normalise to `5年`; Chinese characters are kept as they are.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(
        ch for ch in folded
        if not ch.isspace() and not unicodedata.category(ch).startswith(("P", "S"))
    )
