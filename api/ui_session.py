"""Sessions and CSRF tokens of the review UI, held on the server.

Signing in stores a session (models.tables.ReviewSessionRow: the digest of a random token, the key's id, the
expiry) and sets a cookie holding the token and the expiry, signed with the app's secret; the key itself never
leaves the sign-in form. A request's session is the row its cookie names, if the signature holds and the row is
there and unexpired: logging out and revoking the key delete the row, so a copy of the cookie replayed afterwards
is refused. Forms carry a CSRF token derived from the session's token, which another site can neither read nor
forge. Tokens are compared as bytes, in constant time, whatever characters a client sends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from models.db import as_utc
from models.tables import ReviewSessionRow

COOKIE = "karmayogi_review"
LOGIN_COOKIE = "karmayogi_login"


@dataclass(frozen=True)
class UiSession:
    key_id: str
    token: str
    expires: datetime


def same_token(expected: str, presented: str | None) -> bool:
    """Constant-time comparison of two tokens as UTF-8 bytes (hmac refuses non-ASCII str)."""
    if not presented:
        return False
    return hmac.compare_digest(expected.encode("utf-8", "surrogatepass"), presented.encode("utf-8", "surrogatepass"))


def _sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode("utf-8", "surrogatepass"), payload, hashlib.sha256).hexdigest()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start_session(db: Session, secret: str, key_id: str, hours: float) -> str:
    """Store a new session for the key and return the cookie naming it. Expired sessions are cleared on the way."""
    now = datetime.now(UTC)
    db.execute(delete(ReviewSessionRow).where(ReviewSessionRow.expires_at <= now))
    token = secrets.token_urlsafe(32)
    expires = now + timedelta(hours=hours)
    db.add(ReviewSessionRow(token_hash=_digest(token), key_id=key_id, created_at=now, expires_at=expires))
    db.flush()
    session = {"t": token, "e": int(expires.timestamp())}
    payload = base64.urlsafe_b64encode(json.dumps(session, separators=(",", ":")).encode())
    return f"{payload.decode()}.{_sign(secret, payload)}"


def find_session(db: Session, secret: str, cookie: str | None) -> UiSession | None:
    """The session if the cookie is ours and untampered and its session is still held; None otherwise."""
    if not cookie or "." not in cookie:
        return None
    payload, signature = cookie.rsplit(".", 1)
    try:
        signed = payload.encode("ascii")
    except UnicodeEncodeError:
        return None
    if not same_token(_sign(secret, signed), signature):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(signed))
        token = str(data["t"])
        token.encode("ascii")
    except (ValueError, KeyError, TypeError):
        return None
    row = db.get(ReviewSessionRow, _digest(token))
    if row is None:
        return None
    expires = as_utc(row.expires_at)
    if expires <= datetime.now(UTC):
        return None
    return UiSession(key_id=row.key_id, token=token, expires=expires)


def end_session(db: Session, session: UiSession) -> None:
    db.execute(delete(ReviewSessionRow).where(ReviewSessionRow.token_hash == _digest(session.token)))


def end_sessions_of_key(db: Session, key_id: str) -> None:
    """Every review-UI session signed in with the key ends (its revocation)."""
    db.execute(delete(ReviewSessionRow).where(ReviewSessionRow.key_id == key_id))


def csrf_token(secret: str, nonce: str) -> str:
    return _sign(secret, f"csrf:{nonce}".encode("utf-8", "surrogatepass"))


def csrf_valid(secret: str, nonce: str, presented: str | None) -> bool:
    return same_token(csrf_token(secret, nonce), presented)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)
