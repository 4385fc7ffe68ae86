"""/chat/: the citizen's page, what it sends (JSON, CSRF header), its pushed replies (server-sent
events on the visitor's own channel) and the rating at the end."""

from __future__ import annotations

import secrets

from flask import Response, jsonify, render_template, request, session

from app.extensions import db
from app.webchat import bp
from app.webchat.texts import LANGUAGES, RATINGS, SCRIPT_KEYS, refusal, texts
from telephony_adapter import chats, push
from telephony_adapter.wechat import InboundMessage
from workflows import clock


def _language() -> str:
    """The page's language: chosen with ?lang=, then kept for the visitor's later requests."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["chat_lang"] = asked
    return session.get("chat_lang", "zh")


def _t(key: str) -> str:
    return texts(_language())[key]


def _party(create: bool = False) -> str | None:
    if "chat_party" not in session and create:
        session["chat_party"] = f"w{secrets.token_hex(10)}"
    return session.get("chat_party")


@bp.route("/chat/")
def page():
    language = _language()
    words = texts(language)
    return render_template("webchat/page.html", t=words, ratings=RATINGS[language], language=language,
                           script_texts={key: words[key] for key in SCRIPT_KEYS},
                           other="zh" if language == "en" else "en")


@bp.route("/chat/send", methods=["POST"])
def send():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not isinstance(body.get("id"), str):
        return jsonify(error=_t("bad_request")), 400
    text, key = body["text"].strip(), body["id"].strip()
    if not text:
        return jsonify(error=_t("empty")), 422
    if len(text) > 1000 or not 0 < len(key) <= 40:
        return jsonify(error=_t("too_long")), 422
    party = _party(create=True)
    now = clock.now()
    # The page's own message id: a message sent twice (a retried request) is stored once.
    row, new = chats.receive(InboundMessage("web", party, f"{party}:{key}", "text", text, now,
                                            language=_language()))
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
    if rating not in chats.RATING_LABELS or party is None:
        return jsonify(error=_t("choose_rating")), 400
    try:
        chats.rate("web", party, rating, clock.now())
    except chats.ReplyRefused as exc:
        return jsonify(error=refusal(exc.message, _language())), 409
    return jsonify(message=_t("thanks"))


@bp.route("/chat/leave", methods=["POST"])
def leave():
    """结束对话 from the citizen's side: the agent sees they left and closes the conversation."""
    party = _party()
    contact = chats.leave("web", party, clock.now()) if party else None
    if contact is None:
        return jsonify(error=_t("nothing_open")), 409
    return jsonify(message=_t("left"), state=contact.state)
