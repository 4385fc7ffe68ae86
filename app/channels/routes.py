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


def _push(verify, read, limit: int, received: str):
    """One channel's server URL: GET is its URL check (`verify()`), POST a push read by `read(body)`
    (checked there), stored once, and answered with `received` at once; refusals say why."""
    try:
        if request.method == "GET":
            return _text(verify())
        if (request.content_length or 0) > limit:
            return _text("消息体过大", 413)
        message = read(request.get_data(cache=False)[:limit + 1])
    except wechat.ChannelRefused as refused:
        return _text(refused.message, refused.status)
    if message is not None:
        chats.receive(message)
    return _text(received)


@bp.route("/channels/wechat", methods=["GET", "POST"])
@csrf.exempt
def wechat_push():
    settings, args = _settings(), request.args
    return _push(lambda: wechat.verify_url(settings, args.get("signature", ""), args.get("timestamp", ""),
                                           args.get("nonce", ""), args.get("echostr", "")),
                 lambda body: wechat.read_push(settings, body, args), wechat.MAX_BODY_BYTES,
                 "success")  # WeChat's word for "received; no passive reply"


wechat_push.channel_facing = True  # type: ignore[attr-defined]


@bp.route("/channels/weibo", methods=["GET", "POST"])
@csrf.exempt
def weibo_push():
    """Weibo's fan-service server URL: GET the check, POST a private message (JSON)."""
    secret = current_app.config.get("WEIBO_APP_SECRET")
    if not secret:
        abort(404)
    return _push(lambda: weibo.verify_url(secret, request.args),
                 lambda body: weibo.read_push(secret, body, request.args), weibo.MAX_BODY_BYTES,
                 "")  # Weibo wants a quick empty 200; agents answer through the reply API


weibo_push.channel_facing = True  # type: ignore[attr-defined]
