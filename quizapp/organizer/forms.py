from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (BooleanField, DateTimeLocalField, DecimalField, IntegerField, SelectField, StringField, SubmitField,
                     TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..models import STAGES
from ..prizes import LEVELS
from ..validation import AppForm

TYPES = (("single", "单选题"), ("multiple", "多选题"), ("judge", "判断题"), ("fill", "填空题"))


class RoundForm(AppForm):
    """A round's settings. The paper is one section per question type; an optional document
    and difficulty narrow every section. Times are entered in 北京时间."""

    stage = SelectField("阶段", choices=[(s, s) for s in STAGES])
    name = StringField("轮次名称", validators=[DataRequired("请填写轮次名称"), Length(max=200, message="不能超过 200 字")])
    opens_at = DateTimeLocalField("开始时间（北京时间）", format="%Y-%m-%dT%H:%M",
                                  validators=[DataRequired("请填写开始时间")])
    closes_at = DateTimeLocalField("结束时间（北京时间）", format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired("请填写结束时间")])
    time_limit_minutes = IntegerField("答题时长（分钟）", default=30,
                                      validators=[InputRequired("请填写答题时长"), NumberRange(1, 600, "应在 1–600 分钟之间")])
    doc = SelectField("出题范围", choices=[], validate_choice=False)
    difficulty = SelectField("难度", choices=[("", "不限"), ("1", "1（易）"), ("2", "2（中）"), ("3", "3（难）")])
    count_single = IntegerField("单选题数量", default=20, validators=[InputRequired("请填写题数（不出该题型填 0）"), NumberRange(0, 500, "应在 0–500 之间")])
    count_multiple = IntegerField("多选题数量", default=10, validators=[InputRequired("请填写题数（不出该题型填 0）"), NumberRange(0, 500, "应在 0–500 之间")])
    count_judge = IntegerField("判断题数量", default=15, validators=[InputRequired("请填写题数（不出该题型填 0）"), NumberRange(0, 500, "应在 0–500 之间")])
    count_fill = IntegerField("填空题数量", default=5, validators=[InputRequired("请填写题数（不出该题型填 0）"), NumberRange(0, 500, "应在 0–500 之间")])
    points_single = DecimalField("单选题每题分值", default=1, places=1, validators=[InputRequired("请填写每题分值"), NumberRange(0, 100, "应在 0–100 之间")])
    points_multiple = DecimalField("多选题每题分值", default=2, places=1, validators=[InputRequired("请填写每题分值"), NumberRange(0, 100, "应在 0–100 之间")])
    points_judge = DecimalField("判断题每题分值", default=1, places=1, validators=[InputRequired("请填写每题分值"), NumberRange(0, 100, "应在 0–100 之间")])
    points_fill = DecimalField("填空题每题分值", default=2, places=1, validators=[InputRequired("请填写每题分值"), NumberRange(0, 100, "应在 0–100 之间")])
    multiple_rule = SelectField("多选题计分", choices=[
        ("all_or_nothing", "全对才得分"), ("partial", "少选得一半分，错选不得分")])
    draw_mode = SelectField("组卷方式", choices=[("random", "每人随机抽题（可复现）"), ("fixed", "所有人同一套题（题序、选项顺序各不相同）")])
    show_score = SelectField("成绩显示", default="after_close",
                             choices=[("after_close", "公布成绩后显示得分"), ("on_submit", "交卷后立即显示得分")])
    unit_method = SelectField("单位排名方式", choices=[("mean", "参赛人员平均分"), ("sum", "参赛人员总分"), ("best_k", "前 k 名平均分")])
    unit_k = IntegerField("k（前 k 名）", validators=[Optional(), NumberRange(1, 100, "应在 1–100 之间")])
    avoid_seen = BooleanField("尽量避开参赛人员在前几轮做过的题", default=True)
    allow_superseded = BooleanField("允许抽取已失效的版本（如 2018 年《监察法》）")
    allow_mixed_versions = BooleanField("允许同一文件的新旧版本出现在同一份试卷上")
    team_size = IntegerField("团体赛每队人数（个人赛留空）", validators=[Optional(), NumberRange(1, 10, "应在 1–10 之间")])
    team_scoring = SelectField("团体赛计分", default="shared", choices=[("shared", "全队共答一份试卷"), ("sum", "队员个人得分之和"), ("mean", "队员个人得分平均")])
    submit = SubmitField("保存轮次")

    def sections(self) -> list[dict]:
        extra = {"doc": self.doc.data or None, "difficulty": int(self.difficulty.data) if self.difficulty.data else None}
        return [
            {"type": qtype, "count": getattr(self, f"count_{qtype}").data, **extra}
            for qtype, _ in TYPES if getattr(self, f"count_{qtype}").data
        ]

    def points(self) -> dict:
        return {qtype: float(getattr(self, f"points_{qtype}").data) for qtype, _ in TYPES}


class ReasonForm(AppForm):
    reason = StringField("原因", validators=[DataRequired("请填写原因"), Length(max=500, message="不能超过 500 字")])


class ExtendForm(AppForm):
    minutes = IntegerField("分钟", default=10, validators=[InputRequired("请填写分钟数"), NumberRange(1, 240, "应在 1–240 分钟之间")])
    reason = StringField("原因", validators=[DataRequired("请填写原因"), Length(max=500, message="不能超过 500 字")])


class AdvanceForm(AppForm):
    """An advancement rule and manual changes (one "准考证号 理由" per line)."""

    per_unit = IntegerField("每单位前几名", validators=[Optional(), NumberRange(1, 1000)])
    top_n = IntegerField("总排名前几名", validators=[Optional(), NumberRange(1, 100000)])
    min_score = DecimalField("分数线（不低于）", places=1, validators=[Optional(), NumberRange(0, 100000)])
    fill_to = IntegerField("再按总排名递补至（人）", validators=[Optional(), NumberRange(1, 100000)])
    top_units = IntegerField("只从单位排名前几的单位中选（决赛选队用）", validators=[Optional(), NumberRange(1, 10000)])
    add = TextAreaField("手动增加（每行：准考证号 理由）", validators=[Optional(), Length(max=20000)])
    remove = TextAreaField("手动移除（每行：准考证号 理由）", validators=[Optional(), Length(max=20000)])
    preview = SubmitField("预览")
    confirm = SubmitField("确认晋级")

    def rule_dict(self) -> dict:
        return {"per_unit": self.per_unit.data, "top_n": self.top_n.data,
                "min_score": float(self.min_score.data) if self.min_score.data is not None else None,
                "fill_to": self.fill_to.data, "top_units": self.top_units.data}


class CorrectionForm(AppForm):
    answer = TextAreaField("正确答案", validators=[DataRequired("请填写正确答案"), Length(max=2000)])
    reason = StringField("更正原因", validators=[DataRequired("请填写更正原因"), Length(max=500)])


class VoidForm(AppForm):
    mode = SelectField("处理方式", choices=[("award", "作废，所有人得分"), ("drop", "作废，不计入总分"), ("restore", "恢复正常计分")])
    reason = StringField("原因", validators=[DataRequired("请填写原因"), Length(max=500, message="不能超过 500 字")])


class PersonForm(AppForm):
    name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=64)])
    unit_id = SelectField("单位", coerce=int, choices=[])
    phone = StringField("手机", validators=[Optional(), Length(max=32)])


class RosterUploadForm(AppForm):
    file = FileField("名单文件（CSV 或 XLSX）", validators=[FileRequired("请选择文件"), FileAllowed(["csv", "xlsx"], "只接受 CSV 或 XLSX 文件")])
    create_units = SelectField("名单中出现新单位时", choices=[("1", "自动新建单位"), ("0", "作为错误拒绝")])


class BankUploadForm(AppForm):
    file = FileField("题库文件（YAML）", validators=[FileRequired("请选择文件"), FileAllowed(["yaml", "yml"], "只接受 .yaml 文件")])


class LiaisonForm(AppForm):
    unit_id = SelectField("单位", coerce=int, choices=[])
    username = StringField("用户名", validators=[DataRequired("请填写用户名"), Length(max=64)])
    name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=64)])


class PrizeForm(AppForm):
    """Prize settings for individuals and units: counts or rank cut-offs per level."""

    individual_mode = SelectField("个人奖项设置方式", choices=[("counts", "按名额"), ("ranks", "按名次线")])
    individual_1 = IntegerField("个人一等奖", validators=[Optional(), NumberRange(0, 100000)])
    individual_2 = IntegerField("个人二等奖", validators=[Optional(), NumberRange(0, 100000)])
    individual_3 = IntegerField("个人三等奖", validators=[Optional(), NumberRange(0, 100000)])
    individual_4 = IntegerField("个人优秀奖", validators=[Optional(), NumberRange(0, 100000)])
    unit_mode = SelectField("单位奖项设置方式", choices=[("counts", "按名额"), ("ranks", "按名次线")])
    unit_1 = IntegerField("单位一等奖", validators=[Optional(), NumberRange(0, 10000)])
    unit_2 = IntegerField("单位二等奖", validators=[Optional(), NumberRange(0, 10000)])
    unit_3 = IntegerField("单位三等奖", validators=[Optional(), NumberRange(0, 10000)])
    unit_4 = IntegerField("单位优秀奖", validators=[Optional(), NumberRange(0, 10000)])

    def settings(self) -> dict:
        return {
            kind: {"mode": getattr(self, f"{kind}_mode").data,
                   **{level: getattr(self, f"{kind}_{i}").data or 0 for i, level in enumerate(LEVELS, start=1)}}
            for kind in ("individual", "unit")
        }
