"""Setting up an on-stage 决赛: teams and their logins, questions drawn in advance, swaps,
and the final's team scores in the round's leaderboards.

A final belongs to one 决赛 team round. Its teams are the round's `Team`s (formed by
advancement from the 复赛); each gets a team login (a `User` with role "team", a generated
password kept sealed for printing on a slip). Its run sheet is drawn when it is created:
per part, questions of the part's types (and difficulty) from the banks in force, one per
draw group, none twice, preferring questions no finalist saw in an earlier round. Until the
final starts the organizer may swap any question for another that fits the same part.

The live part (the event log, rebuilding, payloads) is quizapp.services.final_live.
"""
from __future__ import annotations

import random
import secrets

from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..models import Final, FinalQuestion, FinalTeam, Round, Team, User
from ..papers import PoolQuestion
from ..ranking import UnitRow
from ..rules import final as rules
from . import ServiceError, audit, entry
from .accounts import issue_initial_password, unseal_initial
from .drawing import question_pool

DEFAULT_TYPES = {"required": ["single", "judge"], "buzzer": ["single", "judge"], "risk": ["multiple", "single"],
                 "tiebreak": ["judge", "single", "fill"], "tiebreak_risk": ["multiple", "single", "fill"]}


def default_config() -> dict:
    config = rules.merged_config(None)
    for part, types in DEFAULT_TYPES.items():
        config[part]["types"] = list(types)
        config[part]["difficulty"] = None
    return config


def final_for_round(round_: Round) -> Final | None:
    return db.session.scalar(select(Final).filter_by(round_id=round_.id))


def create_final(round_: Round, config: dict | None = None, seed: str | None = None) -> Final:
    """A final for 决赛 team round `round_` with its team logins and run sheet; commits.
    Raises ServiceError (Chinese) when the round is not a 决赛 team round with teams, already
    has a final, or the banks cannot fill the run sheet."""
    if round_.stage != "决赛" or not round_.is_team:
        raise ServiceError("只有决赛团体轮次可以创建现场决赛")
    if final_for_round(round_) is not None:
        raise ServiceError("本轮已创建现场决赛")
    teams = db.session.scalars(select(Team).filter_by(round_id=round_.id).order_by(Team.id)).all()
    if len(teams) < 2:
        raise ServiceError("决赛至少需要两支队伍：请先由复赛晋级并组建队伍")
    merged = default_config()
    for key, value in (config or {}).items():
        if isinstance(value, dict):
            merged[key].update(value)
        else:
            merged[key] = value
    final = Final(round_id=round_.id, config=merged, base_score=int(merged["base_score"]),
                  screen_token=secrets.token_urlsafe(18), status="ready")
    db.session.add(final)
    db.session.flush()
    for position, team in enumerate(teams, start=1):
        user = User(username=f"final{final.id}-{position:02d}", name=team.name, role="team", unit_id=team.unit_id,
                    password_hash="")
        issue_initial_password(user)
        db.session.add(user)
        db.session.flush()
        final.teams.append(FinalTeam(team_id=team.id, user_id=user.id, position=position))
    db.session.flush()
    _plan(final, seed or secrets.token_hex(8))
    audit.record("final.create", round_.name, f"创建现场决赛：{len(teams)} 支队伍，{len(final.questions)} 道题")
    db.session.commit()
    return final


def run_sheet(final: Final) -> list[tuple[str, FinalTeam | None]]:
    """(part, team) of each slot: 必答 and 风险 in turns of every team, 抢答, then the reserve for
    加赛: the 抢答 加赛's slots, then the 风险题 加赛's (their team is chosen when one is played:
    quizapp.rules.final.tiebreak)."""
    config, teams = final.config, list(final.teams)
    slots: list[tuple[str, FinalTeam | None]] = []
    slots += [("required", t) for _ in range(int(config["required"]["count_per_team"])) for t in teams]
    slots += [("buzzer", None)] * int(config["buzzer"]["count"])
    slots += [("risk", t) for _ in range(int(config["risk"]["count_per_team"])) for t in teams]
    slots += [("tiebreak", None)] * int(config["tiebreak"]["count"])
    slots += [("tiebreak_risk", None)] * int(config.get("tiebreak_risk", {}).get("count", 0))
    return slots


def _seen_by_finalists(final: Final) -> frozenset[str]:
    members = [m.user for ft in final.teams for m in ft.team.members]
    seen: set[str] = set()
    for user in members:
        seen |= entry.seen_qids(final.round, user)
    return frozenset(seen)


def _fits(final: Final, part: str, q: PoolQuestion) -> bool:
    settings = final.config[part]
    difficulty = settings.get("difficulty")
    return q.in_force and q.type in settings.get("types", DEFAULT_TYPES[part]) and (not difficulty or q.difficulty == int(difficulty))


def _pick(final: Final, part: str, pool: list[PoolQuestion], used: set[int], groups: set[str],
          avoid: frozenset[str], rng: random.Random) -> PoolQuestion:
    fitting = [q for q in pool if q.id not in used and not (q.group and q.group in groups) and _fits(final, part, q)]
    fresh = [q for q in fitting if q.qid not in avoid]
    choices = fresh or fitting
    if not choices:
        raise ServiceError(f"题库不足：没有可用于{rules.PARTS[part]}的题目（题型或难度不符，或已用完）")
    return rng.choice(sorted(choices, key=lambda q: q.id))


def _plan(final: Final, seed: str) -> None:
    pool, avoid = question_pool(), _seen_by_finalists(final)
    rng, used, groups = random.Random(f"final:{seed}"), set(), set()
    for position, (part, team) in enumerate(run_sheet(final)):
        q = _pick(final, part, pool, used, groups, avoid, rng)
        used.add(q.id)
        if q.group:
            groups.add(q.group)
        final.questions.append(FinalQuestion(position=position, part=part, final_team_id=team.id if team else None,
                                             question_id=q.id, option_order=list(q.option_keys)))


def swap_question(final: Final, position: int) -> FinalQuestion:
    """Replace slot `position`'s question by another that fits its part; commits."""
    if final.status != "ready":
        raise ServiceError("决赛开始后不能再换题")
    slot = next((q for q in final.questions if q.position == position), None)
    if slot is None:
        raise ServiceError("没有这道题")
    pool = {q.id: q for q in question_pool()}
    used = {q.question_id for q in final.questions}
    groups = {pool[q.question_id].group for q in final.questions if q.question_id in pool and pool[q.question_id].group}
    old = slot.question
    try:
        new = _pick(final, slot.part, list(pool.values()), used, groups, _seen_by_finalists(final),
                    random.Random(secrets.token_hex(8)))
    except ServiceError:
        raise ServiceError("没有其他符合本环节要求的题目可换") from None
    slot.question_id, slot.option_order = new.id, list(new.option_keys)
    audit.record("final.swap", final.round.name, f"第 {position + 1} 题换题：{old.qid} → {new.qid}",
                 before=old.qid, after=new.qid)
    db.session.commit()
    return slot


def slips(final: Final) -> list[dict]:
    """What a team-login slip prints: team, username and the generated password."""
    return [{"team": ft.team.name, "username": ft.user.username, "password": unseal_initial(ft.user.initial_password_enc)}
            for ft in final.teams]


def final_of_team_user(user: User) -> tuple[Final, FinalTeam] | None:
    ft = db.session.scalar(select(FinalTeam).filter_by(user_id=user.id))
    return (ft.final, ft) if ft else None


def stage_leaderboard(round_: Round) -> list[UnitRow] | None:
    """The teams of `round_` ranked by a finished stage final's scores (the round's team
    results), or None when the round has no finished final. Equal scores share a rank."""
    final = final_for_round(round_)
    if final is None or final.status != "finished":
        return None
    from .final_live import load_state  # the live module imports this one

    state = load_state(final.id)
    by_id = {ft.id: ft for ft in final.teams}
    return [UnitRow(rank, by_id[team].team.unit_id, by_id[team].team.name, float(score),
                    len(by_id[team].team.members), len(by_id[team].team.members))
            for rank, team, score in rules.ranking(state)]


def mark_status(final: Final, state: rules.State) -> None:
    """Copy the state's status onto the final row (lists and leaderboards read it). No commit."""
    if final.status != state.status:
        final.status = state.status
        if state.status == "finished":
            final.finished_at = clock.now()


DEMO_CONFIG = {"required": {"count_per_team": 1}, "buzzer": {"count": 4}, "risk": {"count_per_team": 1},
               "tiebreak": {"count": 2}, "tiebreak_risk": {"count": 4}}


def create_demo_final(round_: Round) -> Final:
    """The demo's on-stage final for the 决赛's teams: ready to run, questions drawn. Commits."""
    return create_final(round_, DEMO_CONFIG, seed="demo-2018")


def demo_lines() -> list[str]:
    """What `quizapp demo` prints about each final: console, big screen and team logins."""
    lines = []
    for final in db.session.scalars(select(Final).order_by(Final.id)):
        lines.append(f"现场决赛（{final.round.name}，{final.status_label}）：组织者登录后打开主持台 /admin/finals/{final.id}/console；"
                     f"大屏（无需登录）/screen/{final.screen_token}")
        lines += [f"  决赛队伍登录：用户名 {s['username']}，密码 {s['password']}（{s['team']}，登录后即为抢答器）"
                  for s in slips(final)[:3]]
        if len(final.teams) > 3:
            lines.append(f"  其余 {len(final.teams) - 3} 支队伍的登录条：/admin/finals/{final.id}/slips")
    return lines
