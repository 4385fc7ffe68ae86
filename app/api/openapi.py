"""OpenAPI 3.0 for the switch-facing endpoints (app/calls/routes_switch.py): the call events, the
voice menu's questions, Kamailio's plain-text questions. tests/test_openapi.py checks that every
token-guarded route is described here and runs schemathesis against the description."""

from __future__ import annotations

from functools import lru_cache

from telephony_adapter.events import KINDS

_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
_TEXT = {"text/plain": {"schema": {"type": "string"}}}
# Identifiers (SIP Call-IDs, event ids) are visible ASCII, as SIP words and UUIDs are.
VISIBLE = {"type": "string", "pattern": "^[!-~]+$"}
# Free text must hold something besides white space — white space as the platform's str.strip()
# sees it (ECMA's \s differs: it lacks \x1c–\x1f and \x85), so the class is spelled out.
_PYTHON_SPACE = "\\t\\n\\v\\f\\r \\u001c-\\u001f\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
NOT_BLANK = f"[^{_PYTHON_SPACE}]"


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


_REFUSED = {"401": {"description": "缺少、错误或已吊销的接口令牌", "content": _json(_ERROR)}}


def _text_answer(summary: str, parameters: list[dict], description: str, extra: dict | None = None) -> dict:
    return {"get": {"summary": summary, "description": description, "tags": ["Kamailio"], "parameters": parameters,
                    "responses": {"200": {"description": "第一行是答复", "content": _TEXT},
                                  "400": {"description": "参数缺失或不合规", "content": _TEXT},
                                  **_REFUSED, **(extra or {})}}}


def _query(name: str, description: str, required: bool = True, **schema) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": {"type": "string", **schema}}


@lru_cache(maxsize=1)
def document() -> dict:
    base = {
        "source": {"type": "string", "minLength": 1, "maxLength": 32, "description": "交换机或集成的名称"},
        "event_id": {**VISIBLE, "maxLength": 128, "description": "该来源内唯一；重复投递不产生任何变化"},
        "call_id": {**VISIBLE, "maxLength": 128, "description": "SIP Call-ID 或交换机的通话标识"},
        "at": {"type": "string", "format": "date-time", "description": "事件发生时间（带时区）"},
    }
    keyed = {"ivr", "dtmf", "survey_result"}

    def variant(kinds: list[str], data: dict, data_required: bool) -> dict:
        return {"type": "object", "required": ["source", "event_id", "kind", "call_id", "at",
                                               *(["data"] if data_required else [])],
                "properties": {**base, "kind": {"type": "string", "enum": kinds}, "data": data}}

    call_event = {
        "description": ("；".join(f"{k} {v}" for k, v in KINDS.items())
                        + "。data 随事件而定：caller、dialled、queue、cause、file …"),
        "oneOf": [
            variant(sorted(set(KINDS) - keyed), {"type": "object"}, False),
            variant(["dtmf", "ivr"], {"type": "object", "required": ["digit"],
                                      "properties": {"digit": {"type": "string", "maxLength": 4}}}, True),
            variant(["survey_result"], {"type": "object", "required": ["score"],
                                        "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 4}}}, True),
        ],
    }
    outcome = {
        "type": "object", "required": ["result"],
        "properties": {
            "result": {"type": "string", "enum": ["applied", "ignored", "duplicate"]},
            "note": {"type": "string", "nullable": True},
            "contact": {"type": "object", "nullable": True,
                        "properties": {"id": {"type": "integer"}, "state": {"type": "string"},
                                       "agent_id": {"type": "integer", "nullable": True}}},
            "offered_to": {"type": "integer", "nullable": True},
        },
    }
    call_id = _query("call_id", "SIP Call-ID", maxLength=128, pattern=VISIBLE["pattern"])
    ivr_question = {"type": "object", "required": ["call_id"],
                    "properties": {"call_id": {**VISIBLE, "maxLength": 128},
                                   "digit": {"type": "string", "enum": list("0123456789*#")},
                                   "source": {"type": "string", "minLength": 1, "maxLength": 32}}}
    ivr_answer = {"type": "object", "required": ["action"],
                  "properties": {"action": {"type": "string", "enum": ["prompt", "message", "queue", "wait", "hangup",
                                                                       "offer_callback", "pause", "error"]}}}
    return {
        "openapi": "3.0.3",
        "tags": [{"name": "话务", "description": "交换机与语音导航媒体组件（令牌范围 cti）"},
                 {"name": "Kamailio", "description": "Kamailio 路由脚本的询问（令牌范围 cti）"},
                 {"name": "工单", "description": "外部系统转来诉求并跟踪办理（令牌范围 tickets）：只看得到本系统提交的工单，"
                                              "不返回市民个人信息"},
                 {"name": "报表", "description": "月度考核与服务指标（令牌范围 reports）"},
                 {"name": "在线客服（市民端）", "description": "市民网页的对话接口：无需令牌，以会话 Cookie 识别访客，"
                                                      "以 X-CSRFToken 请求头（取自 /chat/ 页面的 csrf-token）防跨站。"
                                                      "视频服务的 /video/send、history、rate、leave 与之相同"}],
        "info": {"title": "12393 医保服务热线平台 · 集成接口", "version": "1",
                 "description": "交换机、语音导航媒体组件、12345 等外部系统调用的接口，以及市民在线客服页面的接口。"
                                "外部系统以 Authorization: Bearer <令牌> 认证（范围：cti、tickets、reports）："
                                "令牌由系统管理员在“系统管理 → 接口令牌”签发（或安装时的 HOTLINE_CTI_TOKEN）。"
                                "任何文本不得含 NUL 字符或不成对的代理项：含有者一律 400，不作任何处理。"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {
            "/cti/events": {"post": {
                "summary": "报告一个通话事件", "tags": ["话务"],
                "description": ("每个事件一个事务；同一 source + event_id 重复投递不产生变化；"
                                "不适用于通话当前状态的事件被记录为 ignored。"),
                "requestBody": {"required": True, "content": _json(call_event)},
                "responses": {"200": {"description": "已处理", "content": _json(outcome)},
                              "400": {"description": "请求体不合规（字段名在 error 中）", "content": _json(_ERROR)},
                              **_REFUSED}}},
            "/cti/ivr/next": {"post": {
                "summary": "语音导航：下一步做什么", "tags": ["话务"],
                "description": "媒体组件先不带按键询问（问候语），之后每次按键再询问。",
                "requestBody": {"required": True, "content": _json(ivr_question)},
                "responses": {"200": {"description": "下一步", "content": _json(ivr_answer)},
                              "400": {"description": "请求体不合规", "content": _json(_ERROR)}, **_REFUSED}}},
            "/cti/ivr/audio/{node_id}": {"get": {
                "summary": "语音导航条目的录音（8 kHz、8 位无符号、单声道）", "tags": ["话务"],
                "parameters": [{"name": "node_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}],
                "responses": {"200": {"description": "录音", "content": {"application/octet-stream": {
                                  "schema": {"type": "string", "format": "binary"}}}},
                              "404": {"description": "没有该录音", "content": _json(_ERROR)}, **_REFUSED}}},
            **_integration_paths(),
            **_webchat_paths(),
            "/cti/kamailio/route": _text_answer(
                "Kamailio：这通来电交给谁",
                [call_id, _query("caller", "主叫号码", required=False),
                 _query("dialled", "被叫号码", required=False)],
                "答复 agent:<用户名>、ivr:<分机>、wait 或 reject。"),
            "/cti/kamailio/waiting": _text_answer(
                "Kamailio：这通来电正在排队（挂起的 INVITE）",
                [call_id, _query("tindex", "事务索引", pattern="^[0-9]{1,10}$"),
                 _query("tlabel", "事务标签", pattern="^[0-9]{1,10}$")],
                "平台保存挂起事务的句柄，坐席示闲时通知 Kamailio 接通。",
                {"404": {"description": "没有这通来电", "content": _TEXT}}),
            "/cti/kamailio/event": _text_answer(
                "Kamailio：通话事件", [
                    call_id,
                    _query("kind", "事件", enum=["answered", "hangup", "recording_ready", "held", "resumed"]),
                    _query("seq", "re-INVITE 的 CSeq（held / resumed 必填）", required=False, pattern="^[0-9]{1,10}$"),
                    _query("cause", "挂机原因", required=False, maxLength=64)],
                "答复 applied、ignored 或 duplicate。",
                {"404": {"description": "录音文件不存在（recording_ready）", "content": _TEXT}}),
            "/cti/kamailio/softphone": _text_answer(
                "Kamailio：浏览器软电话的注册令牌是否有效",
                [_query("user", "注册的用户名", maxLength=64), _query("token", "X-Hotline-Token", maxLength=512)],
                "答复 ok 或 no。"),
        },
    }


_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": "string", "nullable": True}
_INSTANT = {"type": "string", "format": "date-time", "nullable": True}


def _integration_paths() -> dict:
    """/api/v1: tickets submitted by other systems, and the monthly assessment."""
    from app.models.tickets import CATEGORIES, STATUSES
    from app.reports.assessment import MONTH
    from app.tickets.integration import EXTERNAL_ID, MAX_CHANGED

    progress = {"type": "object", "required": ["number", "status", "category", "subject", "created_at"],
                "properties": {
                    "number": {**_STRING, "description": "工单号（如 20261205-0001）"},
                    "external_id": {**_NULLABLE_STRING, "description": "提交系统自己的编号"},
                    "status": {"type": "string", "enum": sorted(STATUSES)}, "status_label": _STRING,
                    "category": {"type": "string", "enum": sorted(CATEGORIES)}, "category_label": _STRING,
                    "channel": _STRING, "subject": _STRING, "current_step": _NULLABLE_STRING,
                    "department": {**_NULLABLE_STRING, "description": "承办部门"},
                    "handle_due_at": _INSTANT, "sla_state": _STRING,
                    "reply": {**_NULLABLE_STRING, "description": "答复市民的内容"},
                    "satisfaction": _NULLABLE_STRING, "created_at": _INSTANT, "updated_at": _INSTANT,
                    "archived_at": _INSTANT}}
    submission = {"type": "object", "required": ["external_id", "category", "subject", "content"],
                  "additionalProperties": False, "properties": {
                      "external_id": {"type": "string", "pattern": EXTERNAL_ID.pattern,
                                      "description": "本系统的编号：同一编号再次提交返回同一张工单"},
                      "channel": {"type": "string", "enum": ["phone", "wechat", "weibo", "web", "video"],
                                  "default": "web"},
                      "category": {"type": "string", "enum": sorted(CATEGORIES)},
                      "urgency": {"type": "string", "enum": ["normal", "urgent"], "default": "normal"},
                      "subject": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NOT_BLANK},
                      "content": {"type": "string", "minLength": 1, "maxLength": 4000, "pattern": NOT_BLANK},
                      "caller_phone": {"type": "string", "maxLength": 32},
                      "caller_name": {"type": "string", "maxLength": 64}}}
    refused = {"type": "object", "required": ["error"],
               "properties": {"error": _STRING, "fields": {"type": "object", "additionalProperties": _STRING}}}
    line = {"type": "object", "required": ["code", "name", "measured", "deduction_cny"], "properties": {
        "code": _STRING, "name": _STRING, "target": _STRING, "measured": {"type": "boolean"},
        "value": {"type": "number", "nullable": True}, "shown": _NULLABLE_STRING,
        "met": {"type": "boolean", "nullable": True}, "numerator": {"type": "number", "nullable": True},
        "denominator": {"type": "number", "nullable": True}, "left_out": {"type": "integer"},
        "deduction_cny": {"type": "integer"}, "major": {"type": "boolean"}, "rule": _NULLABLE_STRING,
        "notes": {"type": "array", "items": _STRING}}}
    assessment = {"type": "object", "required": ["month", "total_deduction_cny", "indicators"], "properties": {
        "month": _STRING, "total_deduction_cny": {"type": "integer"}, "major_events": {"type": "integer"},
        "force_majeure_days": {"type": "array", "items": _STRING}, "indicators": {"type": "array", "items": line}}}
    return {
        "/api/v1/tickets": {
            "post": {"summary": "提交一件市民诉求（工单）", "tags": ["工单"],
                     "description": "新工单进入坐席的待认领队列等待派单，与电话受理的工单同样计时、考核。",
                     "requestBody": {"required": True, "content": _json(submission)},
                     "responses": {"201": {"description": "已创建", "content": _json(progress)},
                                   "200": {"description": "同一 external_id 已提交过：返回原工单",
                                           "content": _json(progress)},
                                   "400": {"description": "未创建：fields 逐项说明", "content": _json(refused)},
                                   **_REFUSED}},
            "get": {"summary": "本系统提交的、在某时刻之后有变化的工单", "tags": ["工单"],
                    "description": "按变化时间从早到晚；以最后一件的 updated_at 再次查询即可接续（可能重复，不会遗漏）。",
                    "parameters": [_query("changed_since", "带时区的 ISO 8601 时间（含）", format="date-time"),
                                   {"name": "limit", "in": "query", "required": False,
                                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_CHANGED, "default": 100}}],
                    "responses": {"200": {"description": "工单", "content": _json(
                        {"type": "object", "required": ["tickets"],
                         "properties": {"tickets": {"type": "array", "items": progress}}})},
                        "400": {"description": "参数不合规", "content": _json(_ERROR)}, **_REFUSED}}},
        "/api/v1/tickets/{number}": {"get": {
            "summary": "一件工单的办理进度", "tags": ["工单"],
            "parameters": [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "进度", "content": _json(progress)},
                          "404": {"description": "没有该工单，或不是本系统提交的", "content": _json(_ERROR)},
                          **_REFUSED}}},
        "/api/v1/reports/assessment": {"get": {
            "summary": "月度考核：各项服务指标、目标与扣费", "tags": ["报表"],
            "parameters": [_query("month", "考核月份 YYYY-MM（当月为截至目前）", pattern=MONTH.pattern)],
            "responses": {"200": {"description": "考核结果", "content": _json(assessment)},
                          "400": {"description": "月份不合规", "content": _json(_ERROR)},
                          "404": {"description": "该月份尚未开始，或早于平台的数据", "content": _json(_ERROR)},
                          **_REFUSED}}},
    }


def _webchat_paths() -> dict:
    """The citizen's chat page's own calls (app/webchat/routes.py); 视频服务 (/video/…) has the same."""
    from telephony_adapter.chats import RATING_LABELS

    # No token: a citizen is anyone. The session cookie (hotline_session, set by /chat/) tells one
    # visitor's conversation from another's; without it a visitor is simply new.
    visitor: list = []
    refused = {"400": {"description": "请求体不合规，或缺少 / 错误的 X-CSRFToken", "content": _json(_ERROR)}}
    message = {"type": "object", "required": ["id", "direction", "kind", "text", "at"], "properties": {
        "id": {"type": "integer"}, "direction": {"type": "string", "enum": ["in", "out"]}, "kind": _STRING,
        "text": _STRING, "at": {"type": "string", "format": "date-time"}}}

    def post(summary: str, body: dict, answer: dict, extra: dict | None = None, description: str = "") -> dict:
        return {"post": {"summary": summary, "tags": ["在线客服（市民端）"], "security": visitor,
                         "description": (description + " 须带 X-CSRFToken 请求头（/chat/ 页面 csrf-token 的值）。").strip(),
                         "requestBody": {"required": True, "content": _json(body)},
                         "responses": {"200": {"description": "完成", "content": _json(answer)}, **refused,
                                       **(extra or {})}}}

    return {
        "/chat/send": post("市民发送一条消息", {
            "type": "object", "required": ["text", "id"],
            "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": NOT_BLANK},
                           "id": {"type": "string", "minLength": 1, "maxLength": 40, "pattern": NOT_BLANK,
                                  "description": "页面生成的消息编号：重发不会重复保存"}}},
            {"type": "object", "required": ["id", "new"],
             "properties": {"id": {"type": "integer"}, "new": {"type": "boolean"}}},
            {"422": {"description": "消息为空或过长", "content": _json(_ERROR)}},
            "第一条消息开启对话并进入在线客服队列；坐席的回复经 /chat/stream（服务器推送事件）送达。"),
        "/chat/history": {"get": {
            "summary": "本访客最近一次对话的全部消息", "tags": ["在线客服（市民端）"], "security": visitor,
            "responses": {"200": {"description": "对话", "content": _json({
                "type": "object", "required": ["messages"],
                "properties": {"state": _NULLABLE_STRING, "rated": {"type": "boolean"},
                               "messages": {"type": "array", "items": message}}})}}}},
        "/chat/rate": post("对话结束后的满意度评价", {
            "type": "object", "required": ["rating"],
            "properties": {"rating": {"type": "string", "enum": sorted(RATING_LABELS)}}},
            {"type": "object", "required": ["message"], "properties": {"message": _STRING}},
            {"409": {"description": "没有可评价的对话，或已评价", "content": _json(_ERROR)}}),
        "/chat/leave": post("市民结束对话", {"type": "object"},
                            {"type": "object", "required": ["message"],
                             "properties": {"message": _STRING, "state": _STRING}},
                            {"409": {"description": "没有进行中的对话", "content": _json(_ERROR)}}),
    }
