"""Encryption at rest for personal identifiers, and the keyed hashes that find them.

One secret, HOTLINE_DATA_KEY (config DATA_KEY; generated into the instance folder in embedded
mode, required in production), gives two independent keys through HKDF-SHA256: an AES-256-GCM
key for the values and an HMAC-SHA256 key for lookups. A lookup hashes the normalised value, so
"which person has phone 13800000001" is an indexed equality, and a stolen database alone reveals
neither the numbers nor a way to test guesses against them. Each kind of value has its own
associated data / hash prefix, so a phone's ciphertext or hash never stands in for an ID number's.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

FORMAT = b"\x01"  # first byte of every ciphertext: the scheme, so the format can change later
NONCE_BYTES = 12
MIN_KEY_LENGTH = 32

ID_NUMBER = b"id_number"
PHONE = b"phone"
IMPORT_FILE = b"import_file"


class DataKeyError(RuntimeError):
    pass


class DataKeys:
    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_KEY_LENGTH:
            raise DataKeyError(f"HOTLINE_DATA_KEY 至少需要 {MIN_KEY_LENGTH} 个字符，"
                               "可用 python -c 'import secrets; print(secrets.token_urlsafe(32))' 生成")
        material = secret.encode()
        self.aead = AESGCM(_derive(material, b"hotline personal data encryption v1"))
        self.mac_key = _derive(material, b"hotline personal data lookup v1")


def _derive(material: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)


def keys() -> DataKeys:
    """The current app's keys, derived once per process."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    secret = app.config["DATA_KEY"]
    cached = app.extensions.get("hotline_data_keys")
    if cached is None or cached[0] != secret:
        cached = (secret, DataKeys(secret))
        app.extensions["hotline_data_keys"] = cached
    return cached[1]


def encrypt(value: str, purpose: bytes, data_keys: DataKeys | None = None) -> bytes:
    return encrypt_bytes(value.encode(), purpose, data_keys)


def decrypt(blob: bytes, purpose: bytes, data_keys: DataKeys | None = None) -> str:
    return decrypt_bytes(blob, purpose, data_keys).decode()


def encrypt_bytes(data: bytes, purpose: bytes, data_keys: DataKeys | None = None) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT + nonce + (data_keys or keys()).aead.encrypt(nonce, data, purpose)


def decrypt_bytes(blob: bytes, purpose: bytes, data_keys: DataKeys | None = None) -> bytes:
    blob = bytes(blob)
    if blob[:1] != FORMAT:
        raise DataKeyError("未知的加密数据格式")
    try:
        return (data_keys or keys()).aead.decrypt(blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:], purpose)
    except InvalidTag:
        raise DataKeyError("无法解密个人信息：HOTLINE_DATA_KEY 与加密时使用的密钥不一致") from None


def lookup_hash(value: str, purpose: bytes, data_keys: DataKeys | None = None) -> str:
    """HMAC-SHA256 of the normalised value, hex: what the lookup columns hold and are indexed by."""
    return hmac.new((data_keys or keys()).mac_key, purpose + b":" + value.encode(), hashlib.sha256).hexdigest()
