"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

import re
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

# A real hash of a random string: checking a password against it costs what a real check costs,
# so a wrong user name answers as slowly as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problems(password: str, min_length: int, username: str | None = None) -> list[str]:
    """Chinese explanations of what is wrong with a new password; empty when it is acceptable."""
    problems = []
    if len(password) < min_length:
        problems.append(f"密码至少 {min_length} 位")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        problems.append("密码须同时包含字母和数字")
    if username and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    return problems


def generate_password(length: int = 12) -> str:
    """A temporary password that satisfies the policy, for new and reset accounts."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if re.search(r"[A-Za-z]", candidate) and re.search(r"\d", candidate):
            return candidate
