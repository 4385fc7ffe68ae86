"""Admin forms. Cross-field rules (unique names, role needs a department…) live in the services."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.org import DEPARTMENT_KINDS, SKILL_KINDS
from app.roles import ROLE_LABELS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    display_name = StringField("姓名", validators=[DataRequired("请输入姓名"), Length(max=64)])
    employee_no = StringField("工号", validators=[Optional(), Length(max=32)])
    phone = StringField("手机", validators=[Optional(), Length(max=32)])
    email = StringField("邮箱", validators=[Optional(), Length(max=120)])
    team_id = SelectField("班组", coerce=int, default=0)
    roles = MultiCheckboxField("角色", choices=list(ROLE_LABELS.items()))
    department_ids = MultiCheckboxField("所属部门", coerce=int)


class DepartmentForm(FlaskForm):
    code = StringField("部门编码", validators=[DataRequired("请输入部门编码"), Length(max=32)])
    name = StringField("部门名称", validators=[DataRequired("请输入部门名称"), Length(max=100)])
    kind = SelectField("类型", choices=list(DEPARTMENT_KINDS.items()))
    parent_id = SelectField("上级部门", coerce=int, default=0)
    phone = StringField("联系电话", validators=[Optional(), Length(max=32)])
    sort_order = IntegerField("排序", default=0, validators=[Optional(), NumberRange(0, 9999)])


class TeamForm(FlaskForm):
    name = StringField("班组名称", validators=[DataRequired("请输入班组名称"), Length(max=64)])
    department_id = SelectField("所属部门", coerce=int, default=0)
    leader_id = SelectField("班长", coerce=int, default=0)


class SkillForm(FlaskForm):
    code = StringField("技能编码", validators=[DataRequired("请输入技能编码"), Length(max=32)])
    name = StringField("技能名称", validators=[DataRequired("请输入技能名称"), Length(max=64)])
    kind = SelectField("类别", choices=list(SKILL_KINDS.items()))


class ImportUsersForm(FlaskForm):
    file = FileField("Excel 文件（.xlsx）", validators=[FileRequired("请选择要导入的 .xlsx 文件")])


class ConfirmForm(FlaskForm):
    """An empty form: CSRF protection for one-button actions (disable, unlock, reset)."""
