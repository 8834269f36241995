"""The end of benchmark 1: the check of the database after a round, and sign-ins.

`verify` is what the CI load test (tests/test_load_small.py) asserts on: every acknowledged
answer stored, every attempt finalized, each attempt exactly its prepared paper.
"""
from __future__ import annotations

import asyncio
import re
import time

import aiohttp

from benchmarks.harness import Participant, summary


async def logins(base: str, count: int, concurrency: int) -> dict:
    """Real sign-ins through the form (GET /login for the CSRF token, POST it back)."""
    latencies, errors = [], 0
    begin = time.perf_counter()
    semaphore = asyncio.Semaphore(concurrency)

    async def one(n: int) -> None:
        nonlocal errors
        async with semaphore, aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(base + "/login") as page:
                token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', await page.text()).group(1)
            started = time.perf_counter()
            async with http.post(base + "/login", data={"username": f"B{n:06d}", "password": "bench-password-1",
                                                        "csrf_token": token}, allow_redirects=False) as reply:
                if reply.status == 302 and "/lobby" in reply.headers.get("Location", ""):
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1
    await asyncio.gather(*(one(n) for n in range(count)))
    return summary(latencies, errors, time.perf_counter() - begin)


def verify(url: str, people: list[Participant]) -> dict:
    """Every acknowledged answer stored as acknowledged; every attempt finalized; and every
    paper drawn once: one attempt per participant, each with exactly the items of the paper
    prepared for that participant when the round opened."""
    from sqlalchemy import func, select

    from quizapp import create_app
    from quizapp.extensions import db
    from quizapp.models import Attempt, AttemptItem, PreparedPaper
    from quizapp.services.attempts import to_bank_response

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "verify-only-0123456789"})
    missing = checked = 0
    with app.app_context():
        for person in people:
            if not person.acked:
                continue
            items = {i.position: i for i in db.session.scalars(
                select(AttemptItem).where(AttemptItem.attempt_id == person.attempt_id))}
            for position, value in person.acked.items():
                item = items[position]
                checked += 1
                if item.response != to_bank_response(item.question, item.option_order, value):
                    missing += 1
        unfinalized = db.session.scalar(select(func.count()).select_from(Attempt).where(Attempt.status == "in_progress"))
        attempts = db.session.scalar(select(func.count()).select_from(Attempt))
        prepared = {p.user_id: [q for q, _ in p.items] for p in db.session.scalars(select(PreparedPaper))}
        drawn = {}
        for user_id, question_id in db.session.execute(
                select(Attempt.user_id, AttemptItem.question_id).join(AttemptItem, AttemptItem.attempt_id == Attempt.id)
                .order_by(Attempt.user_id, AttemptItem.position)):
            drawn.setdefault(user_id, []).append(question_id)
        not_as_prepared = sum(drawn.get(p.user_id) != prepared.get(p.user_id) for p in people)
    return {"acknowledged_answers_checked": checked, "acknowledged_answers_missing": missing,
            "attempts": attempts, "attempts_unfinalized": unfinalized, "papers_prepared": len(prepared),
            "attempts_not_as_prepared": not_as_prepared}
