"""在线客服 for citizens: a chat page that works on a phone, no account needed. The visitor is known
by a random id in their session cookie; their conversation is a chat contact like WeChat's."""

from flask import Blueprint

bp = Blueprint("webchat", __name__)

from app.webchat import routes  # noqa: E402,F401
