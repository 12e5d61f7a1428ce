"""Image files: open for their owner (signed URL or Bearer), 404 for anyone else and for path tricks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.client import Account, new_account, read_stream, start_generation


@pytest.fixture(scope="module")
def image(server) -> tuple[Account, str, str]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server.url, timeout=30) as http:
        account = new_account(http, "painter")
        task_id = start_generation(http, account, 1)
        _, got = read_stream(http, task_id, account)
        url = next(e[2]["image_url"] for e in got.events if e[1] == "complete")
        return account, task_id, url


def test_signed_url_opens_without_header(image, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    _, _, url = image
    r = http.get(url)
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")


def test_owner_bearer_opens_unsigned_path(image, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    account, _, url = image
    path = urlsplit(url).path
    assert http.get(path, headers=account.headers).status_code == 200
    assert http.get(path).status_code == 404
    stranger = new_account(http, "peeker")
    assert http.get(path, headers=stranger.headers).status_code == 404


def test_tampered_or_expired_signatures_are_refused(image, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    _, task_id, url = image
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    bad_sig = "0" * len(query["sig"])
    for params in ({**query, "sig": bad_sig}, {**query, "exp": str(int(query["exp"]) + 60)},
                   {**query, "exp": "1"}, {**query, "exp": "soon"}):
        r = http.get(parts.path, params=params)
        assert (r.status_code, r.json()["code"]) == (404, "image_not_found")
    # A valid signature for page 0 does not open page 1's path.
    r = http.get(f"/api/images/{task_id}/1.png", params=query)
    assert r.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/images/..%2F..%2Fsecret_key/0.png",
        "/api/images/{task}/..%2F..%2Fsecret_key",
        "/api/images/{task}/%2E%2E%2Finkstream.db",
        "/api/images/{task}/0.png%00.txt",
        "/api/images/{task}/..",
        "/api/images/{task}/0.PNG",
        "/api/images/../../secret_key",
        "/api/images/{task}/%2Fetc%2Fpasswd",
    ],
)
def test_path_traversal_is_refused(image, http: httpx.Client, path: str) -> None:  # type: ignore[no-untyped-def]
    account, task_id, _ = image
    r = http.get(path.format(task=task_id), headers=account.headers)
    assert r.status_code == 404
    assert b"secret" not in r.content and b"SQLite" not in r.content
