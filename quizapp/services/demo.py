"""The demo competition, modelled on the 2018 county event: 89 units, 356 participants,
初赛 → 复赛 → 决赛. With `simulate`, the participants sit the 初赛 with varied, realistic
accuracy so the leaderboards have data; the 复赛 is open now for the printed logins.

All demo participants share one password (hashed once: hashing 356 distinct passwords with
the production cost would take minutes). That is acceptable only because this is a demo.
"""
from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from .. import clock
from ..extensions import db
from ..advancement import Rule
from ..models import Attempt, AttemptItem, Competition, Question, Round, Team, Unit, User
from . import advancing, entry
from .accounts import hash_password, seal_initial
from .attempts import finalize, start_attempt
from .drawing import question_pool
from .awards import set_prizes
from .banks import import_banks
from .corrections import void_question
from .final import create_demo_final, demo_lines
from .rounds import RoundSpec, close_round, create_round, open_round, publish

ADMIN = ("admin", "admin-demo-2018")
LIAISON = ("lianluo01", "liaison-demo-2018")  # the liaison of the first unit, 县纪委监委机关
PARTICIPANT_PASSWORD = "demo2018"
PRACTICE_LINE = "练习：每位参赛人员登录后即可在「练习」中按章节练习、每日一练、重练错题（不计入竞赛成绩）。"
DEPARTMENTS = (
    "县纪委监委机关 县委办公室 县人大常委会办公室 县政府办公室 县政协办公室 县委组织部 县委宣传部 县委统战部 县委政法委 "
    "县委编办 县委党校 县直机关工委 县总工会 团县委 县妇联 县人民法院 县人民检察院 县公安局 县司法局 县发改局 "
    "县教育局 县科技局 县经信局 县民政局 县财政局 县人社局 县自然资源局 县生态环境分局 县住建局 县交通运输局 "
    "县水利和湖泊局 县农业农村局 县商务局 县文旅局 县卫健局 县退役军人事务局 县应急管理局 县审计局 县市场监管局 "
    "县统计局 县医保局 县林业局 县城管执法局 县信访局 县政务服务和大数据管理局 县供销社 县税务局 县烟草专卖局 "
    "县供电公司 县农商银行 县人民医院 县中医医院 县疾控中心 县第一中学 县第二中学 县职业教育中心 县融媒体中心 "
    "县档案馆 县城投公司 县粮食储备公司 县自来水公司 县邮政分公司 县气象局 县消防救援大队 县住房公积金中心"
).split()
TOWNS = (
    "城关镇 东湖镇 西河镇 南港镇 北堤镇 新沟镇 白鹭镇 荷花镇 长滩镇 柳湾镇 桥头镇 汪洲镇 "
    "红星乡 青山乡 棋盘乡 石门乡 龙湾乡 沙洲乡 金堤乡 双河乡 高桥乡 三合管理区 湖滨管理区 开发区管委会"
).split()
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰春梅文斌海燕飞鹏辉俊峰琳雪婷晨宇浩然思远佳怡子涵欣悦博文"
ABSENT_UNITS = ("县粮食储备公司", "三合管理区")  # nobody took part: shows how idle units are listed
SIM_SECTIONS = [{"type": "single", "count": 20}, {"type": "multiple", "count": 10},
                {"type": "judge", "count": 15}, {"type": "fill", "count": 5}]


def seed_demo(banks_dir: Path, simulate: bool, echo=print) -> list[str]:
    """Create the demo data once; a second call changes nothing and says so.

    Without `simulate`: the competition's three rounds in draft. Practice (练习) needs no data
    of its own: every participant can practise from the banks at once.
    With it: the whole competition is played — 初赛 by everyone, the best 3 of every unit
    (filled to 280) advance to the 复赛, the 3 best of the 8 best units form the teams of the
    决赛; one ambiguous question is voided (a correction in the audit log), prizes are set and
    every round's results are published."""
    if db.session.scalar(select(func.count()).select_from(Competition)):
        return ["演示数据已存在，未重复创建。"] + _login_lines()
    report = import_banks([banks_dir])
    echo(f"已导入题库：新增 {report.added} 道题")
    rng = random.Random(2018)
    _seed_people(rng)
    competition = Competition(name="2018年党的十九大精神暨党章党纪党规系列知识竞赛")
    db.session.add(competition)
    db.session.commit()
    rounds = _seed_rounds(competition)
    if simulate:
        _play(rounds, rng, echo)
        create_demo_final(rounds[2])  # the 决赛 on stage: host console, team buzzers, big screen
    state = "初赛、复赛、决赛均已结束，成绩和获奖名单已公布" if simulate else "初赛、复赛、决赛均未开放"
    return [f"{competition.name}：{state}。", PRACTICE_LINE] + _login_lines()


def _login_lines() -> list[str]:
    users = db.session.scalars(select(User).where(User.role == "participant").order_by(User.username).limit(4)).all()
    lines = [f"组织者登录：用户名 {ADMIN[0]}，密码 {ADMIN[1]}"]
    liaison = db.session.scalar(select(User).filter_by(username=LIAISON[0], role="liaison"))
    if liaison is not None:  # demo data made before the liaison was added has none
        lines.append(f"单位联络员登录：用户名 {LIAISON[0]}，密码 {LIAISON[1]}（{liaison.unit.name}，只看本单位）")
    lines += [f"参赛人员登录：准考证号 {u.username}，密码 {PARTICIPANT_PASSWORD}（{u.name}，{u.unit.name}）" for u in users]
    return lines + demo_lines()


def _seed_people(rng: random.Random) -> None:
    names = DEPARTMENTS + TOWNS
    assert len(names) == 89, len(names)
    units = [Unit(name=name, group_name="乡镇" if name in TOWNS else "县直部门") for name in names]
    db.session.add_all(units)
    db.session.add(User(username=ADMIN[0], name="县纪委监委宣传部", role="admin", password_hash=hash_password(ADMIN[1])))
    db.session.add(User(username=LIAISON[0], name=f"{units[0].name}联络员", role="liaison", unit=units[0],
                        password_hash=hash_password(LIAISON[1])))
    shared_hash = hash_password(PARTICIPANT_PASSWORD)
    sealed = seal_initial(PARTICIPANT_PASSWORD)  # so the demo's admission slips show it
    number = 0
    for unit in units:
        for _ in range(4):
            number += 1
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            db.session.add(User(username=f"2018{number:04d}", name=name, role="participant", unit=unit,
                                password_hash=shared_hash, initial_password_enc=sealed))
    db.session.commit()


def _past_window(now, days_ago: int, days: int):
    """08:00 on a day `days_ago` before now to 18:00 `days` - 1 days later, 北京时间."""
    opens = clock.from_local(clock.to_local(now - timedelta(days=days_ago)).replace(hour=8, minute=0))
    return opens, opens + timedelta(days=days - 1, hours=10)


def _seed_rounds(competition: Competition) -> list[Round]:
    now = clock.now().replace(second=0, microsecond=0)
    common = dict(competition_id=competition.id, points={"single": 1, "multiple": 2, "judge": 1, "fill": 2},
                  multiple_rule="partial", show_score="after_close")
    opens, closes = _past_window(now, 28, 3)
    preliminary = create_round(RoundSpec(stage="初赛", name="初赛（线上）", opens_at=opens, closes_at=closes,
                                         time_limit_minutes=40, sections=SIM_SECTIONS, **common))
    opens, closes = _past_window(now, 18, 1)
    semifinal = create_round(RoundSpec(stage="复赛", name="复赛（集中机考）", opens_at=opens, closes_at=closes,
                                       time_limit_minutes=30,
                                       sections=[{"type": "single", "count": 15, "difficulty": 2},
                                                 {"type": "multiple", "count": 10}, {"type": "judge", "count": 10},
                                                 {"type": "fill", "count": 5}], **common))
    opens, closes = _past_window(now, 10, 1)
    final = create_round(RoundSpec(stage="决赛", name="决赛（团体）", opens_at=opens, closes_at=closes,
                                   time_limit_minutes=45, draw_mode="fixed", team_size=3, team_scoring="shared",
                                   sections=[{"type": "single", "count": 10, "difficulty": 3},
                                             {"type": "multiple", "count": 10}, {"type": "judge", "count": 10},
                                             {"type": "fill", "count": 5}], **common))
    for round_ in (preliminary, semifinal, final):
        round_.seed = f"demo-{round_.seq}"  # the same papers, answers and results on every run
    db.session.commit()
    return [preliminary, semifinal, final]


PRIZES = {
    "初赛（线上）": {"individual": {"mode": "counts", "优秀奖": 60}, "unit": {"mode": "counts", "优秀奖": 10}},
    "复赛（集中机考）": {"individual": {"mode": "counts", "一等奖": 5, "二等奖": 10, "三等奖": 15},
                    "unit": {"mode": "counts", "一等奖": 1, "二等奖": 2, "三等奖": 3}},
    "决赛（团体）": {"individual": {"mode": "counts"},
                 "unit": {"mode": "counts", "一等奖": 1, "二等奖": 2, "三等奖": 3, "优秀奖": 2}},
}


def _play(rounds: list[Round], rng: random.Random, echo) -> None:
    """Play the competition through, with the same services an organizer uses."""
    preliminary, semifinal, final = rounds
    pool = question_pool()
    for round_ in rounds:
        open_round(round_)
        people = db.session.scalars(entry.eligible_people(round_).order_by(User.id)).all()
        if round_ is preliminary:
            people = [u for u in people if u.unit.name not in ABSENT_UNITS and rng.random() > 0.04]
        if round_.is_team:
            people = [m.user for team in db.session.scalars(select(Team).filter_by(round_id=round_.id)) for m in team.members[:1]]
        _simulate(round_, people, pool, rng, echo)
        if round_ is preliminary:
            _void_one(round_, rng)
            advancing.confirm(round_, semifinal, Rule(per_unit=3, fill_to=280), {}, {})
        elif round_ is semifinal:
            advancing.confirm(round_, final, Rule(per_unit=3, top_units=8), {}, {})
        set_prizes(round_, PRIZES[round_.name])
        publish(round_)


def _void_one(round_: Round, rng: random.Random) -> None:
    """The organizer's correction the demo shows: one 多选 question ruled ambiguous and voided
    with everyone given the points (no answer key is changed, so no fact is altered)."""
    shown = db.session.scalars(
        select(Question).join(AttemptItem, AttemptItem.question_id == Question.id)
        .join(Attempt, Attempt.id == AttemptItem.attempt_id)
        .where(Attempt.round_id == round_.id, Question.type == "multiple").order_by(Question.id).limit(20)
    ).all()
    void_question(rng.choice(shown), "award", "演示：评审组认为本题表述可能引起歧义，决定作废、全体得分")


def _simulate(round_: Round, people: list[User], pool, rng: random.Random, echo) -> None:
    """Each person starts at a random moment in office hours, answers with a personal accuracy
    and submits (a few run out of time). Finally the round is closed at its closing time."""
    app = current_app._get_current_object()
    saved_clock = app.config.get("CLOCK")
    days = max(1, (round_.closes_at - round_.opens_at).days + 1)
    try:
        for done, user in enumerate(people, start=1):
            # Office hours, 08:30–17:00 北京时间, on one of the days the round is open.
            day = clock.to_local(round_.opens_at).replace(hour=8, minute=30) + timedelta(days=rng.randrange(days))
            start = clock.from_local(day + timedelta(minutes=rng.randrange(0, 510 - round_.time_limit_minutes)))
            app.config["CLOCK"] = lambda moment=start: moment
            attempt = start_attempt(round_, user, pool)
            skill = min(0.97, max(0.35, rng.gauss(0.72 if round_.stage == "初赛" else 0.8, 0.12)))
            for item in attempt.items:
                item.response = _simulated_response(item.question, rng, _skill(skill, user, item.question.source_doc))
            db.session.commit()
            used = timedelta(seconds=rng.randrange(8 * 60, (round_.time_limit_minutes + 4) * 60))
            app.config["CLOCK"] = lambda moment=start + used: moment
            finalize(attempt, "submitted")
            if done % 50 == 0 or done == len(people):
                echo(f"模拟{round_.name}答题：{done}/{len(people)}")
        app.config["CLOCK"] = lambda: round_.closes_at
        close_round(round_)
    finally:
        app.config["CLOCK"] = saved_clock


def _skill(base: float, user: User, doc: str) -> float:
    """A person's accuracy on one document: their own level, their unit's strength (some units
    study harder), the document's difficulty, and how well this person knows this document —
    so the 体检 shows real spread. Each offset has its own generator seeded by name, so it is
    the same on every run and in every round, and the demo's main generator is not disturbed."""
    unit = random.Random(f"unit:{user.unit.name}").gauss(0, 0.08)
    document = random.Random(f"doc:{doc}").gauss(0, 0.06)
    personal = random.Random(f"person:{user.username}:{doc}").gauss(0, 0.1)
    return min(0.98, max(0.15, base + unit + document + personal))


def _simulated_response(question, rng: random.Random, skill: float):
    """A response that is right with probability `skill` adjusted for difficulty."""
    if rng.random() < 0.02:
        return None
    right = rng.random() < skill - 0.08 * (question.difficulty - 2)
    keys = [key for key, _ in question.options]
    answer = question.answer
    if question.type == "single":
        return answer if right else rng.choice([k for k in keys if k != answer])
    if question.type == "multiple":
        if right:
            return list(answer)
        if rng.random() < 0.5 and len(answer) > 1:
            return sorted(rng.sample(answer, len(answer) - 1))
        wrong = [k for k in keys if k not in answer]
        return sorted(set(answer[:1] + rng.sample(wrong, 1)))
    if question.type == "judge":
        return answer if right else (not answer)
    return [variants[0] for variants in answer] if right else ["不知道"] * len(answer)
