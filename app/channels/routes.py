"""/channels/wechat: WeChat's server URL. GET is the URL check; POST a message, answered with
`success` at once (agents answer through the customer-service API later)."""

from __future__ import annotations

from flask import abort, current_app, request

from app.channels import bp
from app.extensions import csrf
from telephony_adapter import chats, wechat, weibo


def _text(body: str, status: int = 200):
    return body, status, {"Content-Type": "text/plain; charset=utf-8"}


def _settings() -> wechat.WeChatSettings:
    config = current_app.config
    if not config.get("WECHAT_TOKEN"):
        abort(404)  # the channel is not configured here
    return wechat.WeChatSettings(config["WECHAT_TOKEN"], config.get("WECHAT_AES_KEY"), config.get("WECHAT_APPID"))


@bp.route("/channels/wechat", methods=["GET", "POST"])
@csrf.exempt
def wechat_push():
    settings = _settings()
    args = request.args
    try:
        if request.method == "GET":
            return _text(wechat.verify_url(settings, args.get("signature", ""), args.get("timestamp", ""),
                                           args.get("nonce", ""), args.get("echostr", "")))
        if (request.content_length or 0) > wechat.MAX_BODY_BYTES:
            return _text("消息体过大", 413)
        message = wechat.read_push(settings, request.get_data(cache=False)[:wechat.MAX_BODY_BYTES + 1], args)
    except wechat.ChannelRefused as refused:
        return _text(refused.message, refused.status)
    if message is not None:
        chats.receive(message)
    return _text("success")  # WeChat's word for "received; no passive reply"


wechat_push.channel_facing = True  # type: ignore[attr-defined]


@bp.route("/channels/weibo", methods=["GET", "POST"])
@csrf.exempt
def weibo_push():
    """Weibo's fan-service server URL: GET the check, POST a private message (JSON)."""
    secret = current_app.config.get("WEIBO_APP_SECRET")
    if not secret:
        abort(404)
    try:
        if request.method == "GET":
            return _text(weibo.verify_url(secret, request.args))
        if (request.content_length or 0) > weibo.MAX_BODY_BYTES:
            return _text("消息体过大", 413)
        message = weibo.read_push(secret, request.get_data(cache=False)[:weibo.MAX_BODY_BYTES + 1], request.args)
    except wechat.ChannelRefused as refused:
        return _text(refused.message, refused.status)
    if message is not None:
        chats.receive(message)
    return _text("")  # Weibo wants a quick empty 200; agents answer through the reply API


weibo_push.channel_facing = True  # type: ignore[attr-defined]
