"""WeChat Official Account (微信公众号) pushes: URL verification, plain and safe (AES) modes, and the
message types the hotline reads, turned into one `InboundMessage`.

wechatpy does the cryptography and the message classes; every body is first read by defusedxml,
which refuses DTDs and entities, so an XML bomb or an external entity never reaches a parser
that would expand it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from defusedxml import ElementTree as SafeXml
from defusedxml.common import DefusedXmlException
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

SOURCE = "wechat"
MAX_BODY_BYTES = 64 * 1024  # WeChat's pushes are a few KB; anything larger is not WeChat


@dataclass(frozen=True)
class WeChatSettings:
    token: str
    aes_key: str | None = None  # EncodingAESKey (43 characters) for safe mode
    app_id: str | None = None


class ChannelRefused(Exception):
    """The push is refused: `status` is the HTTP answer (403 forged, 400 unreadable, 413 too large)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class InboundMessage:
    source: str
    party: str  # the sender on the channel (openid)
    external_id: str  # what makes a redelivery recognisable
    kind: str  # text, image, voice, location, event, link, video
    text: str
    at: datetime
    data: dict = field(default_factory=dict)
    language: str = "zh"  # the citizen's page language (英语坐席 serve "en")


def verify_url(settings: WeChatSettings, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
    """The server-URL check when the site saves its configuration: echo `echostr` if signed by us."""
    _check(settings.token, signature, timestamp, nonce)
    return echostr


def _check(token: str, signature: str, timestamp: str, nonce: str) -> None:
    try:
        check_signature(token, signature, timestamp, nonce)
    except InvalidSignatureException as exc:
        raise ChannelRefused(403, "签名无效") from exc


def _defused(body: bytes | str) -> None:
    try:
        SafeXml.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ChannelRefused(400, "XML 含有 DTD 或实体定义") from exc
    except SafeXml.ParseError as exc:
        raise ChannelRefused(400, "XML 无法解析") from exc


def read_push(settings: WeChatSettings, body: bytes, args: dict) -> InboundMessage | None:
    """A push's message, checked (signature; in safe mode the message signature and the AppID inside
    the ciphertext). None for a push the hotline does not read (e.g. a template-send report)."""
    if len(body) > MAX_BODY_BYTES:
        raise ChannelRefused(413, "消息体过大")
    _check(settings.token, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
    _defused(body)
    if args.get("encrypt_type") == "aes":
        if not settings.aes_key or not settings.app_id:
            raise ChannelRefused(400, "未配置安全模式密钥（HOTLINE_WECHAT_AES_KEY、HOTLINE_WECHAT_APPID）")
        try:
            body = WeChatCrypto(settings.token, settings.aes_key, settings.app_id).decrypt_message(
                body, args.get("msg_signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
        except InvalidSignatureException as exc:
            raise ChannelRefused(403, "消息签名无效") from exc
        except InvalidAppIdException as exc:
            raise ChannelRefused(403, "消息不是发给本公众号的") from exc
        except (ValueError, KeyError, TypeError) as exc:  # bad base64, padding or layout
            raise ChannelRefused(400, "密文无法解开") from exc
        _defused(body)
    return _to_inbound(parse_message(body))


def _to_inbound(message) -> InboundMessage | None:
    openid = str(getattr(message, "source", "") or "")
    if not openid:
        raise ChannelRefused(400, "缺少 FromUserName")
    at = datetime.fromtimestamp(int(message.create_time.timestamp()), UTC)
    # Events carry no MsgId: the sender and the second identify them (WeChat's own advice).
    external = str(message.id) if getattr(message, "id", None) else f"{openid}:{int(at.timestamp())}:{message.type}"
    kind, text, data = message.type, "", {}
    if kind == "text":
        text = message.content
    elif kind == "image":
        text, data = "[图片]", {"media_id": message.media_id, "url": message.image}
    elif kind == "voice":
        recognised = getattr(message, "recognition", None) or ""
        text, data = recognised or "[语音]", {"media_id": message.media_id, "format": message.format,
                                                "recognition": recognised}
    elif kind == "location":
        text = f"[位置] {message.label or ''}".strip()
        data = {"latitude": message.location_x, "longitude": message.location_y, "label": message.label}
    elif kind == "event":
        event = str(getattr(message, "event", "")).lower()
        if event not in ("subscribe", "unsubscribe", "click", "view"):
            return None
        text = {"subscribe": "关注了公众号", "unsubscribe": "取消关注", "click": "点击菜单", "view": "打开菜单链接"}[event]
        data = {"event": event, "key": getattr(message, "key", None)}
    elif kind in ("link", "video", "shortvideo"):
        kind, text = ("link", f"[链接] {message.title}") if kind == "link" else ("video", "[视频]")
    else:
        return None
    return InboundMessage(SOURCE, openid[:64], external[:128], kind, text or "", at,
                          json.loads(json.dumps(data, ensure_ascii=False, default=str)))
