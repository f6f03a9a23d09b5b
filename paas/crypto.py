"""Authenticated encryption of small secrets at rest (webhook signing secrets, reset links).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with one key per purpose, derived
from ``SECRET_KEY`` by HKDF so a token sealed for one use never opens in another. Tokens sealed
under a key in ``SECRET_KEY_FALLBACKS`` still open, so the key rotates the usual Django way
(``reseal`` stored tokens before dropping the fallback).
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class SealError(Exception):
    """The token was not sealed under any current key, or was tampered with."""


def _fernet(secret_key: str, purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"paas.seal.{purpose}".encode()).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _keyring(purpose: str) -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet(key, purpose) for key in keys])


def seal(plaintext: str, *, purpose: str) -> str:
    """Encrypt and authenticate ``plaintext`` under the current key for ``purpose``."""
    return _keyring(purpose).encrypt(plaintext.encode()).decode()


def unseal(token: str, *, purpose: str) -> str:
    """The plaintext of a token made by ``seal`` with the same purpose; ``SealError`` otherwise."""
    try:
        return _keyring(purpose).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError, TypeError) as exc:
        raise SealError("The token does not open with the current keys.") from exc


def reseal(token: str, *, purpose: str) -> str:
    """The same secret sealed under the current key (for key rotation)."""
    try:
        return _keyring(purpose).rotate(token.encode()).decode()
    except (InvalidToken, ValueError, TypeError) as exc:
        raise SealError("The token does not open with the current keys.") from exc
