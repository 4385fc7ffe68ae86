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
        "info": {"title": "12393 医保服务热线平台 · 集成接口", "version": "1",
                 "description": "交换机、语音导航媒体组件等外部系统调用的接口。以 Authorization: Bearer <令牌> 认证："
                                "令牌由系统管理员在“系统管理 → 接口令牌”签发（或安装时的 HOTLINE_CTI_TOKEN）。"},
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
