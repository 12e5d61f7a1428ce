"""Access tokens and stream tickets: verified once, then remembered — never past their expiry or for another use."""

from __future__ import annotations

import time

import jwt
import pytest

from inkstream.auth import tokens
from inkstream.auth.tokens import TokenService
from inkstream.errors import TicketInvalid, TokenExpired, TokenInvalid

SECRET = "s" * 48


def test_a_remembered_token_still_expires_on_time() -> None:
    service = TokenService(SECRET, access_ttl=1, ticket_ttl=60)
    token = service.issue_access(7, "sid")
    assert service.bearer_of_access(token).user_id == 7
    assert service.bearer_of_access(token).session_id == "sid"  # from memory now
    expires = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(TokenExpired):
        service.bearer_of_access(token)


def test_remembering_never_widens_what_a_token_opens() -> None:
    service = TokenService(SECRET, access_ttl=60, ticket_ttl=60)
    access = service.issue_access(7)
    ticket = service.issue_ticket(7, "a" * 32)
    assert service.bearer_of_ticket(ticket, "a" * 32).user_id == 7
    service.bearer_of_access(access)
    with pytest.raises(TokenInvalid):  # a ticket is not an access token, remembered or not
        service.bearer_of_access(ticket)
    with pytest.raises(TicketInvalid):
        service.bearer_of_ticket(access, "a" * 32)
    with pytest.raises(TicketInvalid):  # nor is a ticket good for another task
        service.bearer_of_ticket(ticket, "b" * 32)
    header, payload, signature = access.split(".")
    flipped = "A" if signature[-2] != "A" else "B"
    with pytest.raises(TokenInvalid):  # one character off is a different token: verified afresh, and refused
        service.bearer_of_access(f"{header}.{payload}.{signature[:-2]}{flipped}{signature[-1]}")
    with pytest.raises(TokenInvalid):  # signed with another key
        service.bearer_of_access(jwt.encode({"sub": "7", "typ": "access", "exp": time.time() + 60}, "x" * 48))


def test_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "_VERIFIED_KEPT", 5)
    service = TokenService(SECRET, access_ttl=60, ticket_ttl=60)
    issued = [service.issue_access(i) for i in range(12)]
    for token in issued:
        service.bearer_of_access(token)
    assert len(service._verified) == 5
    assert service.bearer_of_access(issued[0]).user_id == 0  # forgotten, verified again
