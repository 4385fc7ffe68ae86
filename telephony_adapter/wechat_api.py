"""WeChat's customer-service message API (客服消息), for an agent's reply that comes after the 5 s a
push may be answered in. The access token is fetched with the AppID and secret, kept in Redis
until shortly before it expires (shared by every worker), and fetched again when WeChat says it is
no longer valid. The base URL is configurable (HOTLINE_WECHAT_API_BASE): tests and sites behind a
proxy point it elsewhere; wechatpy's client hard-codes its token URL, hence this small client."""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis
import requests

TOKEN_KEY = "hotline:wechat:access_token"  # noqa: S105 - a Redis key name, not a secret
STALE_TOKEN = {40001, 40014, 42001}  # invalid credential, invalid token, token expired


class SendFailed(Exception):
    """WeChat refused or could not be reached; `permanent` when retrying cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.message, self.permanent = message, permanent


@dataclass(frozen=True)
class ApiSettings:
    base: str  # e.g. https://api.weixin.qq.com
    app_id: str
    secret: str


class WeChatApi:
    def __init__(self, settings: ApiSettings, cache: redis.Redis, timeout: float = 5.0) -> None:
        self.settings, self.cache, self.timeout = settings, cache, timeout
        self.http = requests.Session()

    def _url(self, path: str) -> str:
        return f"{self.settings.base.rstrip('/')}/{path.lstrip('/')}"

    def access_token(self, fresh: bool = False) -> str:
        if not fresh:
            cached = self.cache.get(TOKEN_KEY)
            if cached:
                return cached.decode() if isinstance(cached, bytes) else cached
        body = self._json(self._request("GET", self._url("cgi-bin/token"), params={
            "grant_type": "client_credential", "appid": self.settings.app_id, "secret": self.settings.secret}))
        if "access_token" not in body:
            raise SendFailed(f"获取 access_token 失败：{body.get('errcode')} {body.get('errmsg', '')}".strip(),
                             permanent=body.get("errcode") in (40013, 40125, 40164))
        self.cache.set(TOKEN_KEY, body["access_token"], ex=max(60, int(body.get("expires_in", 7200)) - 300))
        return body["access_token"]

    def send_text(self, openid: str, text: str) -> None:
        """One text message to a user who wrote within the last 48 hours."""
        payload = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        for attempt in range(2):
            token = self.access_token(fresh=attempt > 0)
            body = self._json(self._request("POST", self._url("cgi-bin/message/custom/send"),
                                            params={"access_token": token}, data=_utf8_json(payload),
                                            headers={"Content-Type": "application/json; charset=utf-8"}))
            code = body.get("errcode", 0)
            if code == 0:
                return
            if code in STALE_TOKEN and attempt == 0:
                self.cache.delete(TOKEN_KEY)
                continue
            # 45015: the user has not written for 48 h; 45047: too many messages without an answer.
            raise SendFailed(f"微信拒绝发送：{code} {body.get('errmsg', '')}".strip(),
                             permanent=code in (45015, 45047, 40003))

    def _request(self, method: str, url: str, **kwargs) -> requests.Response | Exception:
        try:
            return self.http.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:  # unreachable: worth trying again later
            return exc

    def _json(self, response: requests.Response | Exception) -> dict:
        if isinstance(response, Exception):
            raise SendFailed(f"微信服务器无法连接：{response.__class__.__name__}")
        if response.status_code >= 500:
            raise SendFailed(f"微信服务器错误 {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise SendFailed("微信返回的不是 JSON") from exc


def _utf8_json(payload: dict) -> bytes:
    # WeChat shows \\u escapes literally: send the characters themselves.
    return json.dumps(payload, ensure_ascii=False).encode()
