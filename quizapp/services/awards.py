"""Prize settings and prize lists (获奖名单) for a round: individuals and units/teams."""
from __future__ import annotations

from ..extensions import db
from ..models import Round
from ..formatting import format_duration, score_number
from ..prizes import LEVELS, awarder, cutoffs
from . import ServiceError, audit
from .results import format_time, individual_leaderboard, unit_headers, unit_leaderboard


def set_prizes(round_: Round, settings: dict) -> None:
    for kind, label in (("individual", "个人"), ("unit", "单位")):
        try:
            cutoffs(settings.get(kind) or {})
        except ValueError as exc:
            raise ServiceError(f"{label}奖项：{exc}") from exc
    before = round_.prizes
    round_.prizes = settings
    audit.record("round.prizes", round_.name, "设置奖项", before=before, after=settings)
    db.session.commit()


def prize_table(round_: Round, by: str) -> tuple[list[str], list[list], list[int]]:
    """Winners only, best prize first: (headers, rows, widths) for the page, printing and XLSX.

    Prizes follow the leaderboard's ranks, so people with equal scores are ordered by time used
    and then submission time (quizapp.ranking); the columns that decided it are in the list,
    and `results.ranking_rule` names the rule. Scores are formatted as on every page."""
    setting = (round_.prizes or {}).get("unit" if by == "unit" else "individual")
    if by == "unit":
        prize = awarder(setting)
        if round_.is_team:
            headers = ["奖项", "名次", "队伍", "队伍成绩", "用时", "参赛"]
            rows = [[prize(r.rank), r.rank, r.name, score_number(r.value), format_duration(r.time_used), r.took_part]
                    for r in unit_leaderboard(round_) if prize(r.rank)]
            widths = [10, 8, 30, 10, 12, 8]
        else:
            headers = ["奖项", "名次", "单位", unit_headers(round_)[2], "参赛"]
            rows = [[prize(r.rank), r.rank, r.name, score_number(r.value), r.took_part]
                    for r in unit_leaderboard(round_) if prize(r.rank)]
            widths = [10, 8, 30, 14, 8]
    else:
        headers = ["奖项", "名次", "姓名", "准考证号", "单位", "得分", "用时", "交卷时间"]
        rows = [[r.prize, r.rank, r.name, r.username, r.unit, score_number(r.score), format_duration(r.time_used),
                 format_time(r.submitted_at)]
                for r in individual_leaderboard(round_) if r.prize]
        widths = [10, 8, 12, 16, 30, 10, 12, 20]
    rows.sort(key=lambda row: (LEVELS.index(row[0]), row[1]))
    return headers, rows, widths
