"""A small version of benchmark 1 as a correctness check (not a timing test): gunicorn with the
repository's config on 127.0.0.1, 100 participants start within 2 seconds, save answers
while the round runs, and all submit within 10 seconds. Fails on any request error, any
acknowledged answer missing from the database, or any attempt left unfinalized.

Runs on PostgreSQL (a database of its own, quizapp_bench) when the suite does, else SQLite.
"""
import asyncio
import os
from types import SimpleNamespace

import pytest

from benchmarks import harness, round_load


@pytest.mark.skipif(os.environ.get("QUIZAPP_SKIP_LOAD") == "1", reason="QUIZAPP_SKIP_LOAD=1")
def test_round_under_load_loses_nothing(monkeypatch):
    kind = "postgres" if os.environ.get("QUIZAPP_TEST_DATABASE_URL", "").startswith("postgresql") else "sqlite"
    if kind == "postgres":
        admin = os.environ["QUIZAPP_TEST_DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
        monkeypatch.setattr(harness, "PG_ADMIN", admin)
    args = SimpleNamespace(db=kind, participants=100, questions=10, workers=4, spike_window=2.0, save_interval=1.0,
                           answer_seconds=6.0, connections=20, capacity_seconds=3.0, rush_window=10.0, logins=4,
                           max_connections=500, port=18500, python_client=True, timeout=60.0)
    result = asyncio.run(round_load.run(args))
    phases = [result["spike"]["start"], result["spike"]["quiz_page"], result["capacity"], result["floor"],
              result["answer_open_loop"], result["rush"], result["logins"]]
    assert [p["errors"] for p in phases] == [0] * len(phases)
    assert result["spike"]["start"]["requests"] == 100 and result["rush"]["requests"] == 100
    assert result["answer_open_loop"]["requests"] > 100
    verify = result["verify"]
    assert verify["attempts"] == 100 and verify["attempts_unfinalized"] == 0
    assert verify["acknowledged_answers_checked"] > 100 and verify["acknowledged_answers_missing"] == 0
    assert verify["papers_prepared"] == 100 and verify["attempts_not_as_prepared"] == 0  # each paper drawn once
    assert result["quiz_page_bytes"]["other_hosts"] == 0 and result["quiz_page_bytes"]["total"] < 200_000
