"""The chat channels' server URLs (全媒体接入): what WeChat (and later Weibo) push to. No session, no
CSRF: each push is authenticated by its channel's signature."""

from flask import Blueprint

bp = Blueprint("channels", __name__)

from app.channels import routes  # noqa: E402,F401
