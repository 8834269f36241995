"""Input is checked once, where it enters: path segments, query parameters and form posts.

What a view can rely on after `init_app`:
- every `<int:…>` in a URL is 1..2147483647 (PostgreSQL's int4, the type of every id column);
  anything else — 0, negatives, leading zeros, 2**31, a 5,000-digit number — is 404 before
  the view runs;
- every other path segment (`<token>`) is 1..200 characters without control characters;
- no query or form value contains a NUL character (PostgreSQL cannot store one): 400;
- query parameters are read through `query_int`, `query_str` and `query_choice`, which
  treat a malformed value as absent, so a hand-edited link shows the unfiltered page;
- forms derive from `AppForm`: WTForms' built-in messages are Chinese, and a form takes only
  form posts (a JSON body leaves it empty instead of crashing Flask-WTF on a list).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from flask import abort, request
from flask_wtf import FlaskForm
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter, UnicodeConverter
from wtforms.i18n import get_translations

INT4_MAX = 2**31 - 1
_INT = re.compile(r"-?\d{1,10}")


class BoundedInt(IntegerConverter):
    """`<int:…>` for database ids: 1..2**31-1, written without leading zeros."""

    regex = r"[1-9]\d{0,9}"

    def __init__(self, map, fixed_digits: int = 0, min: int = 1, max: int = INT4_MAX, signed: bool = False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


class PlainSegment(UnicodeConverter):
    """The default converter: one path segment of 1..200 characters, no control characters."""

    def __init__(self, map, minlength: int = 1, maxlength: int = 200, length: int | None = None):
        super().__init__(map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", r"[^/\x00-\x1f\x7f]", 1)


def query_int(name: str, default: int | None = None, min: int = 1, max: int = INT4_MAX) -> int | None:
    """The query parameter `name` as an int in min..max; `default` when it is absent, not a
    plain decimal integer, or out of range (a malformed link shows the unfiltered page)."""
    value = request.args.get(name, "").strip()
    if not _INT.fullmatch(value):
        return default
    number = int(value)
    return number if min <= number <= max else default


def query_str(name: str, default: str | None = None, max_length: int = 200) -> str | None:
    """The query parameter `name`, stripped; `default` when it is empty or longer than
    `max_length` (no real filter value is that long)."""
    value = request.args.get(name, "").strip()
    return value if value and len(value) <= max_length else default


def query_choice(name: str, choices: Iterable[str], default: str | None = None) -> str | None:
    """The query parameter `name` if it is one of `choices`, else `default`."""
    value = request.args.get(name, "")
    return value if value in set(choices) else default


# Where WTForms' own Chinese catalogue is missing a message or says something else
# ("Number must be at least 1" is not 「数值必须大于 1」).
_OWN_MESSAGES = {
    "This field is required.": "此项必填。",
    "Number must be at least %(min)s.": "数值不能小于 %(min)s。",
    "Number must be at most %(max)s.": "数值不能大于 %(max)s。",
    "Number must be between %(min)s and %(max)s.": "数值应在 %(min)s 到 %(max)s 之间。",
    "Field cannot be longer than %(max)d character.": "不能超过 %(max)d 个字符。",
    "Field cannot be longer than %(max)d characters.": "不能超过 %(max)d 个字符。",
    "Field must be at least %(min)d character long.": "至少 %(min)d 个字符。",
    "Field must be at least %(min)d characters long.": "至少 %(min)d 个字符。",
    "Field must be between %(min)d and %(max)d characters long.": "长度应在 %(min)d 到 %(max)d 个字符之间。",
    "This field cannot be edited.": "此项不能修改。",
    "This field is disabled and cannot have a value.": "此项已停用，不能填写。",
    "Not a valid choice.": "请从列表中选择。",
    "Invalid Choice: could not coerce.": "选择无效。",
    "Not a valid integer value.": "请填写整数。",
    "Not a valid decimal value.": "请填写数字。",
    "Not a valid float value.": "请填写数字。",
    "Not a valid datetime value.": "日期时间格式不正确。",
    "Not a valid date value.": "日期格式不正确。",
    "Not a valid time value.": "时间格式不正确。",
    "Invalid input.": "输入无效。",
    "Not a valid week value.": "周格式不正确。",
    "Date must be at least %(min)s.": "日期不能早于 %(min)s。",
    "Date must be at most %(max)s.": "日期不能晚于 %(max)s。",
    "Date must be between %(min)s and %(max)s.": "日期应在 %(min)s 到 %(max)s 之间。",
    "File does not have an approved extension: {extensions}": "不接受这种文件，只接受：{extensions}",
    "File does not have an approved extension.": "不接受这种文件。",
}


class _Chinese:
    """WTForms' translations object: our wording first, then WTForms' own zh catalogue."""

    def __init__(self):
        self.catalogue = get_translations(["zh_CN", "zh"])

    def gettext(self, string: str) -> str:
        return _OWN_MESSAGES.get(string) or self.catalogue.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        own = _OWN_MESSAGES.get(singular if n == 1 else plural)
        return own or self.catalogue.ngettext(singular, plural, n)


CHINESE = _Chinese()


class AppForm(FlaskForm):
    """The base of every form in the app."""

    class Meta:
        def get_translations(self, form):
            # Flask-WTF's own hook answers None without Flask-Babel, i.e. English.
            return CHINESE

        def wrap_formdata(self, form, formdata):
            if request and request.is_json and formdata is not None and not hasattr(formdata, "getlist"):
                # Every form here is an HTML form; a JSON body (perhaps a list or nested
                # objects, which Flask-WTF cannot turn into fields) submits nothing.
                return ImmutableMultiDict() if request.method in ("POST", "PUT", "PATCH", "DELETE") else None
            return FlaskForm.Meta.wrap_formdata(self, form, formdata)


def _refuse_nul() -> None:
    """400 for a NUL anywhere in the query or a form field: nothing in the app accepts one,
    and PostgreSQL refuses to store it (a 500 at the INSERT otherwise)."""
    values = request.args.lists()
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values = [*values, *request.form.lists()]
    for key, items in values:
        if "\x00" in key or any("\x00" in item for item in items):
            abort(400, description="请求中含有无效字符")


def init_app(app) -> None:
    """Install the converters (before any blueprint adds its rules) and the NUL check."""
    app.url_map.converters["int"] = BoundedInt
    app.url_map.converters["default"] = PlainSegment
    app.url_map.converters["string"] = PlainSegment
    app.before_request(_refuse_nul)
