"""The call-queue form (呼叫队列) managers fill in."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class QueueForm(FlaskForm):
    code = StringField("队列编码", validators=[DataRequired("请输入队列编码"), Length(max=32)])
    name = StringField("队列名称", validators=[DataRequired("请输入队列名称"), Length(max=64)])
    skill_id = SelectField("服务技能", coerce=int)
    min_level = IntegerField("最低技能等级", default=1,
                             validators=[NumberRange(1, 5, "最低技能等级须在 1–5 之间")])
    overflow_skill_id = SelectField("溢出技能", coerce=int)
    overflow_after_seconds = IntegerField("溢出等待（秒）", default=0,
                                          validators=[NumberRange(0, 3600, "溢出等待须在 0–3600 秒之间")])
    max_wait_seconds = IntegerField("最长等待（秒）", default=0,
                                    validators=[NumberRange(0, 3600, "最长等待须在 0–3600 秒之间")])
    ivr_digit = StringField("语音导航按键", validators=[Optional(), Length(max=4, message="按键最多 4 位")])
    dialled_number = StringField("被叫号码", validators=[Optional(), Length(max=32)])
    active = BooleanField("启用", default=True)
