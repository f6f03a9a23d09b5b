"""Sealed secrets: unreadable at rest, tamper-evident, and surviving a SECRET_KEY rotation."""

import pytest

from paas import crypto


def test_round_trip_and_no_plaintext_in_the_token():
    token = crypto.seal("whsec_very-secret-value", purpose="p")

    assert "very-secret" not in token
    assert crypto.unseal(token, purpose="p") == "whsec_very-secret-value"


def test_each_seal_is_different():
    assert crypto.seal("same", purpose="p") != crypto.seal("same", purpose="p")


def test_tampering_is_detected():
    token = crypto.seal("whsec_abc", purpose="p")
    # Flip a character in the middle of the ciphertext (past the version and timestamp).
    middle = len(token) // 2
    flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]

    with pytest.raises(crypto.SealError):
        crypto.unseal(flipped, purpose="p")
    with pytest.raises(crypto.SealError):
        crypto.unseal("short", purpose="p")
    with pytest.raises(crypto.SealError):
        crypto.unseal("not base64 at all!", purpose="p")


def test_a_token_does_not_open_for_another_purpose():
    token = crypto.seal("whsec_abc", purpose="webhooks")
    with pytest.raises(crypto.SealError):
        crypto.unseal(token, purpose="emails")


def test_rotated_key_still_opens_through_fallbacks(settings):
    token = crypto.seal("whsec_abc", purpose="p")
    old_key = settings.SECRET_KEY

    settings.SECRET_KEY = "a-brand-new-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    with pytest.raises(crypto.SealError):
        crypto.unseal(token, purpose="p")

    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert crypto.unseal(token, purpose="p") == "whsec_abc"
    resealed = crypto.reseal(token, purpose="p")
    settings.SECRET_KEY_FALLBACKS = []
    assert crypto.unseal(resealed, purpose="p") == "whsec_abc"
