"""/chat/: the citizen's page, what it sends (JSON, CSRF header), its pushed replies (server-sent
events on the visitor's own channel) and the rating at the end."""

from __future__ import annotations

import secrets

from flask import Response, jsonify, render_template, request, session

from app.extensions import db
from app.webchat import bp
from app.webchat.texts import RATINGS, SCRIPT_KEYS, refusal, texts
from telephony_adapter import chats, push
from telephony_adapter.wechat import InboundMessage
from workflows import clock


def _language() -> str:
    """The page's language: chosen with ?lang=, then kept for the visitor's later requests."""
    asked = request.args.get("lang")
    if asked in chats.LANGUAGES:
        session["chat_lang"] = asked
    return session.get("chat_lang", "zh")


def _t(key: str) -> str:
    return texts(_language())[key]


def _party(create: bool = False, source: str = "web") -> str | None:
    """The visitor, by a random id in their session cookie (one for the chat page, one for video)."""
    key = "chat_party" if source == "web" else f"{source}_party"
    if key not in session and create:
        session[key] = f"{source[0]}{secrets.token_hex(10)}"
    return session.get(key)


@bp.route("/chat/")
def page():
    return _page("web")


def _page(source: str):
    language = _language()
    words = texts(language)
    return render_template("webchat/page.html", t=words, ratings=RATINGS[language], language=language,
                           script_texts={key: words[key] for key in SCRIPT_KEYS}, source=source,
                           base="/chat" if source == "web" else "/video", ice_servers=_ice_servers(source),
                           other="zh" if language == "en" else "en")


def _ice_servers(source: str) -> list:
    from telephony_adapter import video

    return video.ice_servers() if source == "video" else []


@bp.route("/video/")
def video_page():
    """视频服务: the same page with the picture, the recording question and 开始视频."""
    return _page("video")


@bp.route("/video/start", methods=["POST"])
def video_start():
    from telephony_adapter import video

    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("consent"), bool) or not isinstance(body.get("id"), str) \
            or not 0 < len(body["id"]) <= 40:
        return jsonify(error=_t("video_bad_request")), 400
    party = _party(create=True, source="video")
    try:
        contact = video.request(party, _language(), body["consent"], clock.now(), body["id"])
    except video.VideoRefused as exc:
        db.session.rollback()
        return jsonify(error=refusal(exc.message, _language())), exc.status
    return jsonify(state=contact.state, waiting=contact.agent_id is None)


@bp.route("/video/signal", methods=["POST"])
def video_signal():
    """The citizen's answer to the agent's offer."""
    from telephony_adapter import video

    party = _party(source="video")
    contact = chats.latest_conversation("video", party) if party else None
    try:
        video.to_agent(contact, (request.get_json(silent=True) or {}).get("description"), clock.now())
    except video.VideoRefused as exc:
        return jsonify(error=refusal(exc.message, _language())), exc.status
    return jsonify(ok=True)


@bp.route("/chat/send", methods=["POST"], defaults={"source": "web"})
@bp.route("/video/send", methods=["POST"], defaults={"source": "video"})
def send(source: str):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not isinstance(body.get("id"), str):
        return jsonify(error=_t("bad_request")), 400
    text, key = body["text"].strip(), body["id"].strip()
    if not text:
        return jsonify(error=_t("empty")), 422
    if len(text) > 1000 or not 0 < len(key) <= 40:
        return jsonify(error=_t("too_long")), 422
    party = _party(create=True, source=source)
    now = clock.now()
    # The page's own message id: a message sent twice (a retried request) is stored once.
    row, new = chats.receive(InboundMessage(source, party, f"{party}:{key}", "text", text, now,
                                            language=_language()))
    return jsonify(id=row.id, new=new)


@bp.route("/chat/history", defaults={"source": "web"})
@bp.route("/video/history", defaults={"source": "video"})
def history(source: str):
    party = _party(source=source)
    contact = chats.latest_conversation(source, party) if party else None
    if contact is None:
        return jsonify(messages=[], state=None)
    return jsonify(state=contact.state, rated=contact.chat_rating is not None,
                   messages=[{"id": m.id, "direction": m.direction, "kind": m.kind, "text": m.text,
                              "at": m.created_at.isoformat()} for m in chats.transcript(contact)])


@bp.route("/chat/stream", defaults={"source": "web"})
@bp.route("/video/stream", defaults={"source": "video"})
def stream(source: str):
    party = _party(create=True, source=source)
    from app.redis_client import get_redis

    events = push.stream_channel(chats.visitor_channel(source, party), get_redis())
    db.session.close()
    return Response(events, mimetype="text/event-stream", headers={"Cache-Control": "no-cache",
                                                                   "X-Accel-Buffering": "no"})


@bp.route("/chat/rate", methods=["POST"], defaults={"source": "web"})
@bp.route("/video/rate", methods=["POST"], defaults={"source": "video"})
def rate(source: str):
    body = request.get_json(silent=True) or {}
    party = _party(source=source)
    rating = body.get("rating") if isinstance(body, dict) else None
    if rating not in chats.RATING_LABELS:
        return jsonify(error=_t("choose_rating")), 400
    try:
        if party is None:  # never wrote: there is no conversation to rate
            raise chats.ReplyRefused("会话尚未结束")
        chats.rate(source, party, rating, clock.now())
    except chats.ReplyRefused as exc:
        return jsonify(error=refusal(exc.message, _language())), 409
    return jsonify(message=_t("thanks"))


@bp.route("/chat/leave", methods=["POST"], defaults={"source": "web"})
@bp.route("/video/leave", methods=["POST"], defaults={"source": "video"})
def leave(source: str):
    """结束对话 from the citizen's side: the agent sees they left and closes the conversation."""
    party = _party(source=source)
    contact = chats.leave(source, party, clock.now()) if party else None
    if contact is None:
        return jsonify(error=_t("nothing_open")), 409
    return jsonify(message=_t("left"), state=contact.state)
