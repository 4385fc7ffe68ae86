"""WeChat's side, written here from the documented algorithm and not with wechatpy (which the platform
uses), so the two implementations check each other: signed and encrypted pushes, and a local HTTP
server speaking the token and customer-service endpoints of WeChat's API."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TOKEN = "hotline-test-token"  # noqa: S105 - the test account's own
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat's console gives
APP_ID = "wx1234567890abcdef"
SECRET = "test-app-secret"  # noqa: S105


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - WeChat's algorithm


def signed_query(timestamp: str = "1796459000", nonce: str = "n0nce") -> dict:
    return {"signature": signature(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}


def encrypt(xml: str, app_id: str = APP_ID) -> str:
    """AES-256-CBC, key = base64(EncodingAESKey + '='), IV = its first 16 bytes; plaintext = 16
    random bytes, 4-byte big-endian length, the XML, the AppID; PKCS#7 padding to 32 bytes."""
    key = base64.b64decode(AES_KEY + "=")
    body = xml.encode()
    plain = os.urandom(16) + struct.pack(">I", len(body)) + body + app_id.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def safe_push(xml: str, timestamp: str = "1796459000", nonce: str = "n0nce", app_id: str = APP_ID) -> tuple[dict, str]:
    """Safe mode: the query (with msg_signature over the ciphertext) and the envelope."""
    cipher = encrypt(xml, app_id)
    query = {**signed_query(timestamp, nonce), "encrypt_type": "aes",
             "msg_signature": signature(TOKEN, timestamp, nonce, cipher)}
    return query, f"<xml><ToUserName><![CDATA[gh_hotline]]></ToUserName><Encrypt><![CDATA[{cipher}]]></Encrypt></xml>"


def text_message(openid: str, content: str, msg_id: int, at: int = 1796459000) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_hotline]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id}</MsgId></xml>")


def event_message(openid: str, event: str, at: int = 1796459200) -> str:
    """An event push (subscribe, unsubscribe …): no MsgId; WeChat retries it with the same time."""
    return (f"<xml><ToUserName><![CDATA[gh_hotline]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event></xml>")


class ApiServer:
    """cgi-bin/token and cgi-bin/message/custom/send. `stale_once` makes the first send answer
    40001 (the token was revoked), `refuse` answers every send with that error code."""

    def __init__(self) -> None:
        self.tokens_issued = 0
        self.sent: list[dict] = []
        self.stale_once = False
        self.refuse: int | None = None
        # `hold_next`: the next send arrives (`held` is set) and gets no answer until `release` is set,
        # as when WeChat is slow — the moment a fault story kills the worker that is waiting on it.
        self.hold_next = False
        self.held, self.release = threading.Event(), threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the library's name
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if url.path != "/cgi-bin/token":
                    return self._json({"errcode": 404, "errmsg": "not found"})
                if query.get("appid") != [APP_ID] or query.get("secret") != [SECRET]:
                    return self._json({"errcode": 40013, "errmsg": "invalid appid"})
                server.tokens_issued += 1
                return self._json({"access_token": f"T{server.tokens_issued}", "expires_in": 7200})

            def do_POST(self):  # noqa: N802
                url = urlparse(self.path)
                token = parse_qs(url.query).get("access_token", [""])[0]
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode())
                if server.hold_next:
                    server.hold_next = False
                    server.held.set()
                    server.release.wait(60)
                    return  # the caller has gone: WeChat never answered this one, and it sent nothing
                if server.refuse is not None:
                    return self._json({"errcode": server.refuse, "errmsg": "refused"})
                if server.stale_once or token != f"T{server.tokens_issued}":
                    server.stale_once = False
                    return self._json({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
                server.sent.append(body)
                return self._json({"errcode": 0, "errmsg": "ok"})

            def _json(self, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.http.server_port}"

    def stop(self) -> None:
        self.http.shutdown()
