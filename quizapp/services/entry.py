"""Who may take which round, in which team, and which questions they have already seen."""
from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Attempt, AttemptItem, Question, Round, RoundEntrant, Team, TeamMember, User


NOT_ENTERED = "您未获得本轮参赛资格"


def round_accepts_starts(round_: Round, now) -> bool:
    return round_.status == "open" and round_.opens_at <= now < round_.closes_at


def team_of(round_: Round, user: User) -> Team | None:
    return db.session.scalar(
        select(Team).join(TeamMember, TeamMember.team_id == Team.id)
        .where(Team.round_id == round_.id, TeamMember.user_id == user.id)
    )


def is_entrant(round_: Round, user: User) -> bool:
    if not round_.restricted:
        return True
    return db.session.scalar(select(RoundEntrant.id).filter_by(round_id=round_.id, user_id=user.id)) is not None


def refusal(round_: Round, user: User, now) -> str | None:
    """Why `user` may not start `round_` now (Chinese), or None if they may."""
    if user.role != "participant" or not user.active:
        return "只有参赛人员可以答题"
    if not round_accepts_starts(round_, now):
        return "本轮竞赛当前不在开放时间内"
    if not is_entrant(round_, user):
        return NOT_ENTERED
    if round_.is_team and team_of(round_, user) is None:
        return "本轮为团体赛，您不在本单位的参赛队伍中"
    return None


def _seen(round_: Round):
    """(user id, question id) pairs shown in earlier rounds of the same competition."""
    earlier = select(Round.id).where(Round.competition_id == round_.competition_id, Round.seq < round_.seq)
    return (select(Attempt.user_id, Question.qid).join(AttemptItem, AttemptItem.attempt_id == Attempt.id)
            .join(Question, Question.id == AttemptItem.question_id).where(Attempt.round_id.in_(earlier)).distinct())


def seen_qids(round_: Round, user: User) -> frozenset[str]:
    """Question ids this person was shown in earlier rounds of the same competition."""
    return frozenset(qid for _, qid in db.session.execute(_seen(round_).where(Attempt.user_id == user.id)))


def seen_by_person(round_: Round) -> dict[int, frozenset[str]]:
    """`seen_qids` for everyone at once, by user id (for drawing a whole round's papers)."""
    seen: dict[int, set[str]] = {}
    for user_id, qid in db.session.execute(_seen(round_)):
        seen.setdefault(user_id, set()).add(qid)
    return {user_id: frozenset(qids) for user_id, qids in seen.items()}


def registered_by_unit(round_: Round | None = None) -> dict[int, int]:
    """Per unit id, how many people may take `round_`: its entrants if it is restricted,
    otherwise every active participant."""
    if round_ is not None and round_.restricted:
        query = (select(User.unit_id, func.count()).join(RoundEntrant, RoundEntrant.user_id == User.id)
                 .where(RoundEntrant.round_id == round_.id))
    else:
        query = select(User.unit_id, func.count()).where(User.role == "participant", User.active.is_(True))
    return dict(db.session.execute(query.group_by(User.unit_id)).all())


def eligible_people(round_: Round):
    """A select() of the users who may take `round_`."""
    query = select(User).where(User.role == "participant")
    if round_.restricted:
        return query.join(RoundEntrant, RoundEntrant.user_id == User.id).where(RoundEntrant.round_id == round_.id)
    return query.where(User.active.is_(True))
