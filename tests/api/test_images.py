"""Image files: open for their owner (signed URL or Bearer), 404 for anyone else and for path tricks."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

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
        "/api/images/{task}/0.WEBP",
        "/api/images/{task}/0.webp%00.png",
        "/api/images/{task}/0.gif",
        "/api/images/{task}/0.png.webp",
        "/api/images/{task}/..%2F0.webp",
    ],
)
def test_path_traversal_is_refused(image, http: httpx.Client, path: str) -> None:  # type: ignore[no-untyped-def]
    account, task_id, _ = image
    r = http.get(path.format(task=task_id), headers=account.headers)
    assert r.status_code == 404
    assert b"secret" not in r.content and b"SQLite" not in r.content


def test_each_page_has_a_smaller_webp_preview(image, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    account, task_id, url = image
    view = http.get(f"/api/generate/{task_id}", headers=account.headers).json()
    page = view["images"][0]
    preview_url = page["preview_url"]
    assert urlsplit(preview_url).path == f"/api/images/{task_id}/0.webp"
    assert "sig=" in preview_url  # signed like image_url, so an <img> can load it
    png, webp = http.get(url), http.get(preview_url)
    assert webp.status_code == 200 and webp.headers["content-type"] == "image/webp"
    assert webp.content[:4] == b"RIFF" and webp.content[8:12] == b"WEBP"
    with Image.open(io.BytesIO(webp.content)) as small, Image.open(io.BytesIO(png.content)) as full:
        assert small.format == "WEBP" and small.width == 540 and full.width == 1080
        assert abs(small.height / small.width - full.height / full.width) < 0.01
    assert len(webp.content) < len(png.content) / 3  # about a fifth (bench/creator.py)
    assert http.get(urlsplit(preview_url).path).status_code == 404  # unsigned without a token: nothing


def test_complete_events_carry_a_signed_preview_url(image, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    account, task_id, _ = image
    _, got = read_stream(http, task_id, account)
    (complete,) = [e[2] for e in got.events if e[1] == "complete"]
    assert urlsplit(complete["preview_url"]).path == f"/api/images/{task_id}/0.webp"
    assert http.get(complete["preview_url"]).status_code == 200
    history = http.get("/api/history", headers=account.headers).json()["items"]
    cover = next(item for item in history if item["task_id"] == task_id)
    assert urlsplit(cover["cover_preview_url"]).path.endswith("/0.webp")
