from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, DecimalField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..models import STAGES

TYPES = (("single", "单选题"), ("multiple", "多选题"), ("judge", "判断题"), ("fill", "填空题"))


class RoundForm(FlaskForm):
    """A round's settings. The paper is one section per question type; an optional document
    and difficulty narrow every section. Times are entered in 北京时间."""

    stage = SelectField("阶段", choices=[(s, s) for s in STAGES])
    name = StringField("轮次名称", validators=[DataRequired("请填写轮次名称"), Length(max=200)])
    opens_at = DateTimeLocalField("开始时间（北京时间）", format="%Y-%m-%dT%H:%M",
                                  validators=[DataRequired("请填写开始时间")])
    closes_at = DateTimeLocalField("结束时间（北京时间）", format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired("请填写结束时间")])
    time_limit_minutes = IntegerField("答题时长（分钟）", default=30,
                                      validators=[InputRequired("请填写答题时长"), NumberRange(1, 600, "应在 1–600 分钟之间")])
    doc = SelectField("出题范围", choices=[], validate_choice=False)
    difficulty = SelectField("难度", choices=[("", "不限"), ("1", "1（易）"), ("2", "2（中）"), ("3", "3（难）")])
    count_single = IntegerField("单选题数量", default=20, validators=[InputRequired(), NumberRange(0, 500)])
    count_multiple = IntegerField("多选题数量", default=10, validators=[InputRequired(), NumberRange(0, 500)])
    count_judge = IntegerField("判断题数量", default=15, validators=[InputRequired(), NumberRange(0, 500)])
    count_fill = IntegerField("填空题数量", default=5, validators=[InputRequired(), NumberRange(0, 500)])
    points_single = DecimalField("单选题每题分值", default=1, places=1, validators=[InputRequired(), NumberRange(0, 100)])
    points_multiple = DecimalField("多选题每题分值", default=2, places=1, validators=[InputRequired(), NumberRange(0, 100)])
    points_judge = DecimalField("判断题每题分值", default=1, places=1, validators=[InputRequired(), NumberRange(0, 100)])
    points_fill = DecimalField("填空题每题分值", default=2, places=1, validators=[InputRequired(), NumberRange(0, 100)])
    multiple_rule = SelectField("多选题计分", choices=[
        ("all_or_nothing", "全对才得分"), ("partial", "少选得一半分，错选不得分")])
    draw_mode = SelectField("组卷方式", choices=[("random", "每人随机抽题（可复现）"), ("fixed", "所有人同一套题（题序、选项顺序各不相同）")])
    show_score = SelectField("成绩显示", choices=[("on_submit", "交卷后立即显示得分"), ("after_close", "本轮结束后显示得分")])
    unit_method = SelectField("单位排名方式", choices=[("mean", "参赛人员平均分"), ("sum", "参赛人员总分"), ("best_k", "前 k 名平均分")])
    unit_k = IntegerField("k（前 k 名）", validators=[Optional(), NumberRange(1, 100)])
    submit = SubmitField("保存轮次")

    def sections(self) -> list[dict]:
        extra = {"doc": self.doc.data or None, "difficulty": int(self.difficulty.data) if self.difficulty.data else None}
        return [
            {"type": qtype, "count": getattr(self, f"count_{qtype}").data, **extra}
            for qtype, _ in TYPES if getattr(self, f"count_{qtype}").data
        ]

    def points(self) -> dict:
        return {qtype: float(getattr(self, f"points_{qtype}").data) for qtype, _ in TYPES}
