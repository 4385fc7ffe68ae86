"""Weibo private messages (微博粉丝服务平台): the URL check, JSON pushes turned into `InboundMessage`,
and replies through `messages/reply.json`. There is no maintained Python SDK; the protocol is
small: a SHA-1 signature over the sorted (app secret, timestamp, nonce) on every request, JSON
pushes with `type`, `sender_id`, `receiver_id`, `created_at`, `text` and `data`."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import requests

from telephony_adapter.wechat import ChannelRefused, InboundMessage
from telephony_adapter.wechat_api import SendFailed

SOURCE = "weibo"
MAX_BODY_BYTES = 64 * 1024
KINDS = {"text": "text", "position": "location", "voice": "voice", "image": "image", "event": "event",
         "mention": "text"}
STALE_TOKEN = {21314, 21315, 21316, 21317, 21327, 21332}  # Weibo's token errors: not curable by retrying


def _signed(secret: str, args: dict) -> None:
    joined = "".join(sorted([secret, args.get("timestamp", ""), args.get("nonce", "")]))
    expected = hashlib.sha1(joined.encode()).hexdigest()  # noqa: S324 - Weibo's algorithm, not our choice
    if not hmac.compare_digest(expected, args.get("signature", "")):
        raise ChannelRefused(403, "签名无效")


def verify_url(secret: str, args: dict) -> str:
    _signed(secret, args)
    return args.get("echostr", "")


def read_push(secret: str, body: bytes, args: dict) -> InboundMessage | None:
    """A push's message, or None for a type the hotline does not read (ignored, answered 200)."""
    if len(body) > MAX_BODY_BYTES:
        raise ChannelRefused(413, "消息体过大")
    _signed(secret, args)
    try:
        push = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ChannelRefused(400, "消息体不是合法的 JSON") from exc
    if not isinstance(push, dict) or not str(push.get("sender_id") or "").strip():
        raise ChannelRefused(400, "缺少 sender_id")
    kind = KINDS.get(str(push.get("type")))
    if kind is None:
        return None
    data = push.get("data") if isinstance(push.get("data"), dict) else {}
    text = str(push.get("text") or "")[:4000]
    if kind == "location":
        text = text or "[位置]"
    elif kind in ("voice", "image"):
        text = text or ("[语音]" if kind == "voice" else "[图片]")
    elif kind == "event":
        event = str(data.get("subtype") or "")
        if event not in ("follow", "unfollow", "subscribe", "unsubscribe", "scan", "click"):
            return None
        text = {"follow": "关注了微博", "subscribe": "关注了微博", "unfollow": "取消关注", "unsubscribe": "取消关注",
                "scan": "扫描了二维码", "click": "点击菜单"}[event]
    sender = str(push["sender_id"])[:64]
    created = str(push.get("created_at") or "")
    at = _moment(created)
    # Pushes carry no message id: the sender, the second, the type and the content identify a retry.
    digest = hashlib.sha256(f"{push.get('type')}|{text}|{json.dumps(data, sort_keys=True)}".encode()).hexdigest()[:16]
    return InboundMessage(SOURCE, sender, f"{sender}:{int(at.timestamp())}:{digest}", kind, text, at, data)


def _moment(created_at: str) -> datetime:
    try:  # "Sat Dec 05 09:10:00 +0800 2026", Weibo's own format
        return datetime.strptime(created_at, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)
    except ValueError:
        return datetime.now(UTC).replace(microsecond=0)


class WeiboApi:
    def __init__(self, base: str, access_token: str, timeout: float = 5.0) -> None:
        self.base, self.access_token, self.timeout = base.rstrip("/"), access_token, timeout
        self.http = requests.Session()

    def send_text(self, receiver_id: str, text: str) -> None:
        """A private-message reply to a user who wrote within the last 48 hours."""
        try:
            response = self.http.post(f"{self.base}/2/messages/reply.json", timeout=self.timeout, data={
                "access_token": self.access_token, "type": "text", "receiver_id": receiver_id,
                "data": json.dumps({"text": text}, ensure_ascii=False)})
        except requests.RequestException as exc:
            raise SendFailed(f"微博服务器无法连接：{exc.__class__.__name__}") from exc
        if response.status_code >= 500:
            raise SendFailed(f"微博服务器错误 {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise SendFailed("微博返回的不是 JSON") from exc
        if body.get("error_code"):
            code = int(body["error_code"])
            raise SendFailed(f"微博拒绝发送：{code} {body.get('error', '')}".strip(), permanent=code in STALE_TOKEN)
