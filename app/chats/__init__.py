"""在线客服: the agents' chat console — their open conversations from WeChat, Weibo and the web."""

from flask import Blueprint

bp = Blueprint("chats", __name__)

from app.chats import routes  # noqa: E402,F401
