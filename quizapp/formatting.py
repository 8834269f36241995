"""How scores, durations and times look, the same on pages, prize lists, CSV and XLSX.

Pure: no Flask, no database. Scores are stored rounded to 0.01 (quizapp.ranking); they are
shown with no trailing zeros and never in exponent form: 90, 87.5, 87.25, 35600.
"""
from __future__ import annotations

TIE_RULE = "同分按用时少者在前，再按交卷早者在前"


def score_number(value):
    """A score as the number to export: rounded to 0.01, an int when whole (90, 87.5); None stays None."""
    if value is None:
        return None
    value = round(float(value), 2)
    return int(value) if value.is_integer() else value


def format_score(value) -> str:
    """A score as text: "90", "87.5", "" for None (the text of `score_number`)."""
    number = score_number(value)
    if number is None:
        return ""
    # repr of a float rounded to 2 places is its shortest form; `:f` then strips any exponent.
    text = repr(number)
    return f"{number:f}".rstrip("0").rstrip(".") if "e" in text else text


def format_duration(seconds: int | None) -> str:
    """Time used as 「12分05秒」; "" when unknown."""
    if seconds is None:
        return ""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}分{secs:02d}秒"
