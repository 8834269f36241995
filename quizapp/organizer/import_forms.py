"""Upload forms for rosters and banks: every message is Chinese and written here, so a bad
upload never shows WTForms' English defaults."""
from flask_wtf.file import FileAllowed, FileField, FileRequired, MultipleFileField
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional, Regexp

from ..validation import AppForm

NUMBER_PREFIX_DEFAULT = "KS"


class RosterUploadForm(AppForm):
    """A roster file and, for rosters without a 准考证号 column, the numbering rule:
    prefix + a sequence of `number_width` digits continuing after the highest number in use."""

    file = FileField("名单文件（CSV 或 XLSX）",
                     validators=[FileRequired("请选择文件"), FileAllowed(["csv", "xlsx"], "只接受 CSV 或 XLSX 文件")])
    create_units = SelectField("名单中出现新单位时", choices=[("1", "自动新建单位"), ("0", "作为错误拒绝")])
    number_prefix = StringField("无准考证号列时：编号前缀", default=NUMBER_PREFIX_DEFAULT,
                                validators=[Optional(), Regexp(r"^[A-Za-z0-9-]{0,16}$", message="前缀只能由字母、数字和连字符组成，最多 16 位")])
    number_width = IntegerField("序号位数", default=4,
                                validators=[Optional(), NumberRange(3, 8, "序号位数应在 3–8 之间")])


class BankUploadForm(AppForm):
    """One or more YAML bank files, checked together before anything is imported."""

    file = MultipleFileField("题库文件（YAML）", validators=[
        FileRequired("请选择文件"), FileAllowed(["yaml", "yml"], "只接受 .yaml 或 .yml 文件")])
