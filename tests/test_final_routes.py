"""Organizer pages of the on-stage 决赛: create from a 决赛 round, review and swap, slips, console."""
from __future__ import annotations

from pathlib import Path

import re

from sqlalchemy import select

from quizapp.extensions import db
from quizapp.models import Final, Round

from .conftest import csrf_from, login
from .final_setup import UNITS


def _decision_round(build, app, larger_pool: bool = False) -> int:
    from quizapp.services.teams import form_teams

    build.bank()
    # A pool larger than the final, so a swap always has another question to take (with the
    # 12-question sample alone the random draw sometimes left none, and the swap was refused).
    if larger_pool:
        build.bank(Path(__file__).resolve().parents[1] / "question_banks" / "jianchafa-2024.yaml")
    build.admin()
    for number, unit in enumerate(UNITS, start=1):
        build.participant(f"2026000{number}", unit=unit)
    round_id = build.round(open_=False, stage="决赛", name="决赛（现场）", team_size=3, team_scoring="shared")
    with app.app_context():
        form_teams(db.session.get(Round, round_id))
        db.session.commit()
    return round_id


FORM = {"base_score": "100", "required_count": "1", "required_points": "10", "buzzer_count": "2", "buzzer_points": "10",
        "penalty": "10", "risk_count": "1", "tiebreak_count": "2", "tiebreak_risk_count": "2"}


def test_an_organizer_creates_reviews_swaps_and_prints_a_final(app, build, client):
    round_id = _decision_round(build, app, larger_pool=True)
    login(client, "admin")
    page = client.get("/admin/finals").get_data(as_text=True)
    assert "决赛（现场）" in page
    response = client.post("/admin/finals", data={**FORM, "round_id": round_id, "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    with app.app_context():
        final = db.session.scalar(select(Final).filter_by(round_id=round_id))
        final_id, token, first = final.id, final.screen_token, final.questions[0].question_id
        assert len(final.questions) == 12 and final.config["buzzer"]["false_start_penalty"] == 10
        assert [q.part for q in final.questions][-2:] == ["tiebreak_risk"] * 2
    review = client.get(f"/admin/finals/{final_id}").get_data(as_text=True)
    assert f"/screen/{token}" in review and "换题" in review
    assert client.post(f"/admin/finals/{final_id}/swap/1").status_code == 400  # no CSRF token
    client.post(f"/admin/finals/{final_id}/swap/1", data={"csrf_token": csrf_from(review)})
    with app.app_context():
        assert db.session.get(Final, final_id).questions[0].question_id != first
    slips = client.get(f"/admin/finals/{final_id}/slips").get_data(as_text=True)
    assert len(re.findall(r'class="slip-password">[a-z0-9]{8}<', slips)) == 3
    console = client.get(f"/admin/finals/{final_id}/console")
    html = console.get_data(as_text=True)
    assert 'data-csrf="' in html and "script-src 'self'" in console.headers["Content-Security-Policy"]
    assert not re.search(r"<script>(?!</script>)", html)  # no inline script
    again = client.post("/admin/finals", data={**FORM, "round_id": round_id, "csrf_token": csrf_from(page)})
    assert again.status_code == 200  # the round is no longer offered; nothing created twice
    with app.app_context():
        assert len(db.session.scalars(select(Final)).all()) == 1


def test_bad_input_creates_nothing(app, build, client):
    round_id = _decision_round(build, app)
    login(client, "admin")
    token = csrf_from(client.get("/admin/finals").get_data(as_text=True))
    page = client.post("/admin/finals", data={**FORM, "buzzer_count": "-3", "round_id": round_id, "csrf_token": token})
    assert page.status_code == 200 and 'class="flash flash-error"' in page.get_data(as_text=True)
    page = client.post("/admin/finals", data={**FORM, "buzzer_count": "50", "tiebreak_count": "20", "round_id": round_id,
                                              "csrf_token": token})
    assert "题库不足" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Final)).all() == []


def test_participants_reach_no_final_page(app, build, client):
    _decision_round(build, app)
    login(client, "20260001")
    for path in ("/admin/finals", "/admin/finals/1", "/admin/finals/1/console", "/buzzer"):
        assert client.get(path).status_code == 403, path
