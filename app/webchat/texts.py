"""The citizen's chat page in Chinese and in English (英语服务): every word the page, its script and
its answers show, by language. The language is chosen with ``?lang=en`` (or 中文 / English on the
page) and kept in the visitor's session; an English conversation goes to the 英语坐席."""

from __future__ import annotations

from telephony_adapter.chats import RATING_LABELS

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "title": "在线客服 · 12393 医保服务热线",
        "heading": "医保服务热线 · 在线客服",
        "hours": "工作日 8:30–17:30 人工服务；请勿发送身份证号全号等敏感信息",
        "welcome": "您好！请直接输入您要咨询的问题，坐席将尽快为您解答。",
        "leave": "结束对话",
        "leave_confirm": "结束本次对话？",
        "rate_ask": "本次会话已结束，请对我们的服务进行评价：",
        "placeholder": "请输入您的问题",
        "message_label": "消息",
        "send": "发送",
        "send_failed": "发送失败，请重试",
        "ended": "坐席已结束本次会话。",
        "switch": "English",
        "bad_request": "请求须为 JSON，含 text 与 id",
        "empty": "消息不能为空",
        "too_long": "消息最多 1000 个字",
        "choose_rating": "请选择：满意、基本满意或不满意",
        "thanks": "感谢您的评价！",
        "nothing_open": "当前没有进行中的会话",
        "left": "您已结束本次对话。",
        "video_title": "视频服务 · 12393 医保服务热线",
        "video_heading": "医保服务热线 · 视频服务",
        "video_welcome": "您好！点击“开始视频”，坐席将与您视频面对面交流；也可以在下方文字留言。",
        "consent": "同意本次视频服务录音录像（用于核实与质检）",
        "start_video": "开始视频",
        "video_waiting": "正在为您接通视频坐席，请稍候…",
        "video_connected": "视频已接通",
        "video_bad_request": "请求须为 JSON，含 consent（是否同意录音录像）与 id",
    },
    "en": {
        "html_lang": "en",
        "title": "Online service · 12393 Medical Insurance Hotline",
        "heading": "12393 Medical Insurance Hotline · Online service",
        "hours": "Agents answer on working days 8:30–17:30 (Beijing time). Please do not send your full ID number.",
        "welcome": "Hello! Type your question and an English-speaking agent will answer you shortly.",
        "leave": "End chat",
        "leave_confirm": "End this conversation?",
        "rate_ask": "The conversation has ended. How satisfied are you with our service?",
        "placeholder": "Type your question",
        "message_label": "Message",
        "send": "Send",
        "send_failed": "Sending failed, please try again",
        "ended": "The agent has ended the conversation.",
        "switch": "中文",
        "bad_request": "The request must be JSON with text and id",
        "empty": "The message is empty",
        "too_long": "A message has at most 1,000 characters",
        "choose_rating": "Please choose: satisfied, basically satisfied or dissatisfied",
        "thanks": "Thank you for your rating!",
        "nothing_open": "There is no conversation in progress",
        "left": "You have ended the conversation.",
        "video_title": "Video service · 12393 Medical Insurance Hotline",
        "video_heading": "12393 Medical Insurance Hotline · Video service",
        "video_welcome": "Hello! Press “Start video” to talk to an agent face to face, or type below.",
        "consent": "I agree that this video session may be recorded (for checking and quality)",
        "start_video": "Start video",
        "video_waiting": "Connecting you to a video agent, please wait…",
        "video_connected": "Video connected",
        "video_bad_request": "The request must be JSON with consent (true or false) and id",
    },
}

RATINGS = {
    "zh": RATING_LABELS,
    "en": {"satisfied": "Satisfied", "basic": "Basically satisfied", "dissatisfied": "Dissatisfied"},
}

# The service's refusals a citizen can meet, in English.
REFUSALS_EN = {"会话尚未结束": "The conversation has not ended yet",
               "您已评价过本次会话": "You have already rated this conversation",
               "坐席尚未接入": "No agent has joined yet", "视频信令格式不正确": "The video signal is malformed",
               "无法发起视频服务": "The video service cannot be started"}

# The page's script needs these.
SCRIPT_KEYS = ("send_failed", "leave_confirm", "ended", "video_waiting", "video_connected")


def texts(language: str) -> dict[str, str]:
    return TEXTS[language if language in TEXTS else "zh"]


def refusal(message: str, language: str) -> str:
    return REFUSALS_EN.get(message, message) if language == "en" else message
