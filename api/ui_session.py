"""Signed sessions and CSRF tokens for the review UI (stdlib HMAC; no state on the server).

The cookie holds the API key's public id, an expiry and a random nonce, signed with the app's secret; the
key itself never leaves the sign-in form. Each request re-reads the key, so revoking it ends the session.
Forms carry a CSRF token derived from the nonce, which another site can neither read nor forge.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE = "karmayogi_review"
LOGIN_COOKIE = "karmayogi_login"


@dataclass(frozen=True)
class UiSession:
    key_id: str
    expires: int
    nonce: str


def _sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def encode_session(secret: str, key_id: str, hours: float) -> str:
    session = {"k": key_id, "e": int(time.time() + hours * 3600), "n": secrets.token_urlsafe(16)}
    payload = base64.urlsafe_b64encode(json.dumps(session, separators=(",", ":")).encode())
    return f"{payload.decode()}.{_sign(secret, payload)}"


def decode_session(secret: str, cookie: str | None) -> UiSession | None:
    """The session if the cookie is ours, untampered and unexpired; None otherwise."""
    if not cookie or "." not in cookie:
        return None
    payload, signature = cookie.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(secret, payload.encode())):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        session = UiSession(key_id=str(data["k"]), expires=int(data["e"]), nonce=str(data["n"]))
    except (ValueError, KeyError, TypeError):
        return None
    return session if session.expires > time.time() else None


def csrf_token(secret: str, nonce: str) -> str:
    return _sign(secret, f"csrf:{nonce}".encode())


def csrf_valid(secret: str, nonce: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(secret, nonce), presented or "")


def new_nonce() -> str:
    return secrets.token_urlsafe(16)
