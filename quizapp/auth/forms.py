from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ..validation import AppForm


class LoginForm(AppForm):
    username = StringField("准考证号 / 用户名", validators=[DataRequired("请输入准考证号或用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])
    submit = SubmitField("登录")


class PostForm(AppForm):
    """A form with nothing but the CSRF token, for POST-only buttons (logout, open, close …)."""
