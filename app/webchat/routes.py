"""/chat/: the citizen's page, what it sends (JSON, CSRF header), its pushed replies (server-sent
events on the visitor's own channel) and the rating at the end."""

from __future__ import annotations

import secrets

from flask import Response, jsonify, render_template, request, session

from app.extensions import db
from app.webchat import bp
from telephony_adapter import chats, push
from telephony_adapter.wechat import InboundMessage
from workflows import clock

RATINGS = chats.RATING_LABELS


def _party(create: bool = False) -> str | None:
    if "chat_party" not in session and create:
        session["chat_party"] = f"w{secrets.token_hex(10)}"
    return session.get("chat_party")


@bp.route("/chat/")
def page():
    return render_template("webchat/page.html", ratings=RATINGS)


@bp.route("/chat/send", methods=["POST"])
def send():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not isinstance(body.get("id"), str):
        return jsonify(error="请求须为 JSON，含 text 与 id"), 400
    text, key = body["text"].strip(), body["id"].strip()
    if not text:
        return jsonify(error="消息不能为空"), 422
    if len(text) > 1000 or not 0 < len(key) <= 40:
        return jsonify(error="消息最多 1000 个字"), 422
    party = _party(create=True)
    now = clock.now()
    # The page's own message id: a message sent twice (a retried request) is stored once.
    row, new = chats.receive(InboundMessage("web", party, f"{party}:{key}", "text", text, now))
    return jsonify(id=row.id, new=new)


@bp.route("/chat/history")
def history():
    party = _party()
    contact = chats.latest_conversation("web", party) if party else None
    if contact is None:
        return jsonify(messages=[], state=None)
    return jsonify(state=contact.state, rated=contact.chat_rating is not None,
                   messages=[{"id": m.id, "direction": m.direction, "kind": m.kind, "text": m.text,
                              "at": m.created_at.isoformat()} for m in chats.transcript(contact)])


@bp.route("/chat/stream")
def stream():
    party = _party(create=True)
    from app.redis_client import get_redis

    events = push.stream_channel(chats.visitor_channel("web", party), get_redis())
    db.session.close()
    return Response(events, mimetype="text/event-stream", headers={"Cache-Control": "no-cache",
                                                                   "X-Accel-Buffering": "no"})


@bp.route("/chat/rate", methods=["POST"])
def rate():
    body = request.get_json(silent=True) or {}
    party = _party()
    rating = body.get("rating") if isinstance(body, dict) else None
    if rating not in RATINGS or party is None:
        return jsonify(error="请选择：满意、基本满意或不满意"), 400
    try:
        chats.rate("web", party, rating, clock.now())
    except chats.ReplyRefused as exc:
        return jsonify(error=exc.message), 409
    return jsonify(message="感谢您的评价！")


@bp.route("/chat/leave", methods=["POST"])
def leave():
    """结束对话 from the citizen's side: the agent sees they left and closes the conversation."""
    party = _party()
    contact = chats.leave("web", party, clock.now()) if party else None
    if contact is None:
        return jsonify(error="当前没有进行中的会话"), 409
    return jsonify(message="您已结束本次对话。", state=contact.state)
