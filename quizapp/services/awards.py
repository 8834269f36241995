"""Prize settings and prize lists (获奖名单) for a round: individuals and units/teams."""
from __future__ import annotations

from ..extensions import db
from ..models import Round
from ..prizes import LEVELS, award, cutoffs
from . import ServiceError, audit
from .results import individual_leaderboard, unit_leaderboard


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
    """Winners only, best prize first: (headers, rows, widths) for printing and XLSX."""
    setting = (round_.prizes or {}).get("unit" if by == "unit" else "individual")
    if by == "unit":
        headers = ["奖项", "名次", "单位" if not round_.is_team else "队伍", "成绩", "参赛人数"]
        rows = [[award(r.rank, setting), r.rank, r.name, r.value, r.took_part]
                for r in unit_leaderboard(round_) if award(r.rank, setting)]
        widths = [10, 8, 30, 10, 10]
    else:
        headers = ["奖项", "名次", "姓名", "准考证号", "单位", "得分"]
        rows = [[r.prize, r.rank, r.name, r.username, r.unit, r.score]
                for r in individual_leaderboard(round_) if r.prize]
        widths = [10, 8, 12, 16, 30, 10]
    rows.sort(key=lambda row: (LEVELS.index(row[0]), row[1]))
    return headers, rows, widths
