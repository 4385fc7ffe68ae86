"""Forms of the insured-people screens. Rules across fields live in the services."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.models.people import IMPORT_MODES, INSURANCE_TYPES, INSURED_STATUSES
from app.people.access import REASON_MAX

MODE_CHOICES = [("strict", f"{IMPORT_MODES['strict']}：有任何一行错误，全部不导入"),
                ("lenient", f"{IMPORT_MODES['lenient']}：只导入校验通过的行，错误行列入错误清单")]


class SearchForm(FlaskForm):
    """Only the CSRF token: the query and the grounds are read from the request as they come."""


class ReasonForm(FlaskForm):
    reason = StringField("查询理由", validators=[Length(max=REASON_MAX)])


class RevealForm(FlaskForm):
    reason = StringField("查看完整号码的理由", validators=[Length(max=REASON_MAX)])


class ExportForm(FlaskForm):
    kind = HiddenField()
    key = HiddenField()  # the lookup hash of a phone or ID number, or a name — never an identifier
    reason = StringField("导出理由", validators=[Length(max=REASON_MAX)])


class PersonForm(FlaskForm):
    """The edit form; identifiers are never pre-filled (a new ID number replaces the old one)."""

    ticket = HiddenField()
    context = HiddenField()
    name = StringField("姓名", validators=[Length(max=64)])
    new_id_number = StringField("更正身份证号（留空则不修改）", validators=[Optional(), Length(max=24)])
    insurance_type = SelectField("参保类型", choices=list(INSURANCE_TYPES.items()))
    insured_status = SelectField("参保状态", choices=list(INSURED_STATUSES.items()))
    unit = StringField("单位", validators=[Optional(), Length(max=200)])
    region = StringField("区县", validators=[Optional(), Length(max=64)])
    notes = TextAreaField("备注", validators=[Optional(), Length(max=1000)])
    add_phones = StringField("新增电话（多个用顿号或分号分隔）", validators=[Optional(), Length(max=200)])


class ImportForm(FlaskForm):
    file = FileField("参保人名单（.xlsx 或 .csv）", validators=[FileRequired("请选择要导入的 .xlsx 或 .csv 文件")])
    mode = RadioField("导入方式", choices=MODE_CHOICES, default="strict")


class CommitForm(FlaskForm):
    mode = RadioField("导入方式", choices=MODE_CHOICES, validators=[Optional()])
