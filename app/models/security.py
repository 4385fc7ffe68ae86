"""Sign-in records: every attempt, successful or not, for auditors and lock-out analysis."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime, utcnow

LOGIN_OUTCOMES: dict[str, str] = {
    "success": "登录成功",
    "bad_password": "密码错误",
    "unknown_user": "用户不存在",
    "locked": "账户锁定中",
    "disabled": "账户已停用",
    "throttled": "尝试过于频繁",
    "logout": "退出登录",
    "password_changed": "修改密码",
}


class LoginEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    @property
    def outcome_label(self) -> str:
        return LOGIN_OUTCOMES.get(self.outcome, self.outcome)


# What an integration token may call. The switch (call events, Kamailio's questions, the voice
# menu's media component) is the only kind today.
INTEGRATION_SCOPES: dict[str, str] = {"cti": "话务接口（交换机事件、Kamailio、语音导航媒体组件）",
                                      "tickets": "工单接口（外部系统转来诉求、查询办理进度）",
                                      "reports": "报表接口（读取月度服务指标与考核结果）"}


class IntegrationToken(db.Model):
    """A bearer token of one integration (a switch, a media component, a site's own system), so each
    can be revoked alone and its use is known. Only the token's SHA-256 is kept; the token itself
    is shown once, when it is issued."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(12))  # the token's first characters, to tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))  # comma-separated INTEGRATION_SCOPES keys
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split(",") if s]
