"""Builders for the on-stage 决赛 tests: a 决赛 team round with three units' teams, and its final."""
from __future__ import annotations

from quizapp.extensions import db

SMALL = {"required": {"count_per_team": 1}, "buzzer": {"count": 2}, "risk": {"count_per_team": 1},
         "tiebreak": {"count": 1},  # 11 questions of the sample bank's 12 (one left for a swap)
         "tiebreak_risk": {"count": 2, "types": ["single", "multiple", "judge", "fill"]}}
UNITS = ("县纪委监委机关", "县委办公室", "县财政局")


def final_round(build, app, config=SMALL) -> int:
    """A final for a 决赛 shared-paper team round of three teams (one member each); its id."""
    from quizapp.models import Round
    from quizapp.services.final import create_final
    from quizapp.services.teams import form_teams

    build.bank()
    build.admin()
    for number, unit in enumerate(UNITS, start=1):
        build.participant(f"2026000{number}", unit=unit, name=f"队员{number}")
    round_id = build.round(open_=False, stage="决赛", name="决赛", team_size=3, team_scoring="shared", draw_mode="fixed")
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        form_teams(round_)
        db.session.commit()
        return create_final(round_, config, seed="test").id


def team_ids(app, final_id: int) -> list[int]:
    from quizapp.models import Final

    with app.app_context():
        return [ft.id for ft in db.session.get(Final, final_id).teams]
