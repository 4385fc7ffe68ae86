"""What each person can open: the menu and the home page cards, filtered by permission.

Only screens that exist are listed here; each later area adds its entries.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.permissions import can


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    permission: str
    group: str
    description: str


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("inbox.index", "待办收件箱", "tasks.work", "工单", "我的待办、待认领任务与本部门工单，按时限排序"),
    NavItem("tickets.new", "受理来电", "tickets.intake", "工单", "记录市民诉求，当场答复或派单（快捷键 N）"),
    NavItem("tickets.search_view", "工单查询", "tickets.view_all", "工单", "按单号、电话、姓名、内容、日期查询并导出"),
    NavItem("tickets.search_view", "本部门工单", "tickets.view_department", "工单", "查询本部门的全部工单"),
    NavItem("monitor.board", "实时监控", "monitor.view", "话务", "坐席状态、排队与当日指标大屏，班长干预与突发事件广播"),
    NavItem("workforce.week", "排班表", "monitor.view", "话务", "每周排班（7×24 覆盖），Excel 导入，月度与季度排班工时"),
    NavItem("workforce.month", "考勤与利用率", "monitor.view", "话务", "遵时度（2 分钟容差）与工时利用率，按坐席与班组"),
    NavItem("chats.console", "在线客服", "calls.work", "话务", "微信、微博与网页的会话：同时接待多位市民，30 秒内首次回复"),
    NavItem("calls.records", "来电记录", "calls.view", "话务", "每一通来电的排队、振铃、通话、保持与整理时长，放弃呼叫"),
    NavItem("chats.records", "会话记录", "calls.view", "话务", "每个会话的首次回复、挂机时长与市民评价，超时标红"),
    NavItem("chats.settings_page", "在线客服设置", "calls.configure", "话务", "常用语与每位坐席同时接待的会话数"),
    NavItem("calls.queues", "呼叫队列", "calls.configure", "话务", "队列的服务技能、最低等级、溢出与最长等待，语音导航按键"),
    NavItem("calls.ivr_menu", "语音导航", "calls.configure", "话务", "来电欢迎语与按键菜单：转人工队列、自助语音、预约回拨"),
    NavItem("reports.index", "服务指标", "reports.view", "报表", "17 项考核指标的定义、本月数字与目标，可查明细"),
    NavItem("reports.assessment_page", "月度考核", "reports.view", "报表", "按扣费标准计算当月扣费与重大事件，可排除记录"),
    NavItem("reports.operations_page", "运营报表", "reports.view", "报表", "日报、周报、月报：联系量、接通、工单、热点"),
    NavItem("reports.archive", "报表归档", "reports.view", "报表", "生成 PDF 与 Excel 报表，下载；每天 8 点自动归档日报"),
    NavItem("quality.index", "质检", "qa.sample", "质检", "每日分层抽样，评分、案例分享；质检准确率"),
    NavItem("quality.index", "质检", "tickets.supervise", "质检", "质检结果与坐席申诉的裁定"),
    NavItem("quality.mine", "我的质检", "calls.work", "质检", "我的质检结果，对差错可申诉一次"),
    NavItem("quality.records", "考核记录", "qa.sample", "质检", "业务拨测、培训考核、坐席投诉与工单记录抽查"),
    NavItem("quality.records", "考核记录", "reports.view", "质检", "业务拨测、培训考核、坐席投诉与工单记录抽查"),
    NavItem("quality.cases", "案例分享", "kb.view", "质检", "质检选出的典型案例"),
    NavItem("knowledge.index", "知识库", "kb.view", "知识库", "政策与业务问答检索，受理时自动推荐答案"),
    NavItem("knowledge.policy_changes", "政策变更", "kb.review", "知识库", "登记政策变更，1 个工作日内更新相关文章"),
    NavItem("knowledge.synonyms", "同义词", "kb.review", "知识库", "维护检索同义词（门特 = 门诊特殊疾病）"),
    NavItem("people.index", "参保人查询", "people.view", "人员资料", "按电话、身份证号或姓名查询参保人，查看须说明理由"),
    NavItem("people.imports_page", "参保人导入", "people.import", "人员资料", "从 Excel 或 CSV 批量导入，逐行校验后预览"),
    NavItem("processes.index", "业务流程", "process.edit", "流程管理", "编辑工单闭环流程图、校验、发布与回滚版本"),
    NavItem("admin.users", "用户管理", "admin.users", "系统管理", "新建、编辑、停用用户，分配角色、部门与技能"),
    NavItem("admin.import_users", "批量导入用户", "admin.users", "系统管理", "从 Excel 表格导入用户，逐行校验"),
    NavItem("admin.departments", "部门管理", "admin.org", "系统管理", "承办部门的层级：中心、科室、区县分局"),
    NavItem("admin.teams", "班组管理", "admin.org", "系统管理", "坐席班组与班长"),
    NavItem("admin.skills", "技能管理", "admin.users", "系统管理", "语言、渠道与业务线技能"),
    NavItem("admin.roles", "角色与权限", "admin.users", "系统管理", "每个角色拥有的权限一览"),
    NavItem("admin.status", "系统状态", "admin.system", "系统管理", "数据库、Redis、后台任务队列是否正常"),
    NavItem("admin.integrations", "接口令牌", "admin.system", "系统管理", "交换机等外部系统调用接口的令牌：签发、吊销"),
    NavItem("audit.logins", "登录日志", "audit.logins", "审计监督", "每一次登录、失败与锁定的记录"),
    NavItem("audit.chain", "审计链校验", "audit.trail", "审计监督", "校验全部工单留痕是否被篡改或删除"),
    NavItem("people.access_log_page", "个人信息访问记录", "audit.trail", "审计监督", "谁在何时因何查看或导出参保人资料"),
)


def items_for(user) -> list[NavItem]:
    items, seen = [], set()
    for item in NAV_ITEMS:  # one entry per screen, even when two roles open it
        if item.endpoint not in seen and can(user, item.permission):
            items.append(item)
            seen.add(item.endpoint)
    return items


def grouped_items_for(user) -> dict[str, list[NavItem]]:
    groups: dict[str, list[NavItem]] = {}
    for item in items_for(user):
        groups.setdefault(item.group, []).append(item)
    return groups
