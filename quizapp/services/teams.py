"""Team rounds: forming each unit's team and ranking the teams.

A team is formed from the people who may take the round (its entrants, else every active
participant), per unit, best previous rank first when the round was filled by advancement,
else by admission number; at most `team_size` members. In a "shared" round the team answers
one paper; in "sum"/"mean" rounds each member answers their own and the scores are combined.
"""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Attempt, Round, Team, TeamMember
from ..ranking import Result, UnitRow, rank_individuals
from . import ServiceError, audit, entry
from .attempts import sweep_expired
from .units import sorted_units


def form_teams(round_: Round, order: list[int] | None = None) -> int:
    """(Re)form every unit's team; `order` lists user ids best first. No commit. Returns the count."""
    if not round_.is_team:
        raise ServiceError("本轮不是团体赛")
    if round_.status != "draft":
        raise ServiceError("轮次开放后不能再调整队伍")
    for team in db.session.scalars(select(Team).filter_by(round_id=round_.id)):
        db.session.delete(team)
    db.session.flush()
    people = db.session.scalars(entry.eligible_people(round_)).all()
    position = {user_id: i for i, user_id in enumerate(order or [])}
    people.sort(key=lambda u: (position.get(u.id, len(position)), u.username))
    teams: dict[int, Team] = {}
    for user in people:
        if user.unit_id is None:
            continue
        team = teams.get(user.unit_id)
        if team is None:
            team = teams[user.unit_id] = Team(round_id=round_.id, unit_id=user.unit_id, name=f"{user.unit.name}代表队")
            db.session.add(team)
        if len(team.members) < round_.team_size:
            team.members.append(TeamMember(user_id=user.id))
    audit.record("team.form", round_.name, f"组建 {len(teams)} 支队伍，每队最多 {round_.team_size} 人")
    return len(teams)


def team_leaderboard(round_: Round) -> list[UnitRow]:
    """Teams ranked: by the shared paper's score, or by the sum/mean of members' scores; equal
    values are separated by time used and submission time like individuals. Teams with no
    finished attempt come last, unranked."""
    sweep_expired(round_.id)
    teams = db.session.scalars(select(Team).filter_by(round_id=round_.id)).all()
    position = {u.id: i for i, u in enumerate(sorted_units())}
    teams.sort(key=lambda t: position.get(t.unit_id, len(position)))
    attempts = db.session.scalars(select(Attempt).where(Attempt.round_id == round_.id, Attempt.status != "in_progress")).all()
    by_team: dict[int, list[Attempt]] = {}
    member_team = {m.user_id: t.id for t in teams for m in t.members}
    for attempt in attempts:
        team_id = attempt.team_id or member_team.get(attempt.user_id)
        if team_id:
            by_team.setdefault(team_id, []).append(attempt)
    results, idle = [], []
    for team in teams:
        done = by_team.get(team.id, [])
        if not done:
            idle.append(team)
            continue
        total = sum(a.score or 0 for a in done)
        value = total / len(team.members) if round_.team_scoring == "mean" else total
        results.append(Result(team.id, round(value, 2), sum(a.time_used or 0 for a in done),
                              max(a.submitted_at for a in done)))
    by_id = {t.id: t for t in teams}
    rows = []
    for rank, result in rank_individuals(results):
        team = by_id[result.key]
        took_part = len({a.user_id for a in by_team[team.id]}) if round_.team_scoring != "shared" else len(team.members)
        rows.append(UnitRow(rank, team.unit_id, team.name, result.score, len(team.members), took_part, result.time_used))
    rows.extend(UnitRow(None, t.unit_id, t.name, None, len(t.members), 0) for t in idle)
    return rows
