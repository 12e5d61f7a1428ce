"""No token, ticket or signature reaches a log line, the uvicorn access log included."""

from __future__ import annotations

import time

import httpx
from httpx_sse import connect_sse

from inkstream.logs import redact
from tests.support.client import new_account, read_stream, start_generation


def test_redact_masks_query_tokens_bearer_and_bare_jwts() -> None:
    line = 'GET /api/generate/stream/x?access_token=eyJa.bc.de&ticket=abc&last_event_id=3 Bearer abc.def'
    out = redact(line)
    assert "eyJa" not in out and "ticket=abc" not in out and "Bearer abc" not in out
    assert "last_event_id=3" in out
    assert "eyJhbGciOiJIUzI1NiJ9" not in redact("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")
    # Each pattern is tried only when its marker is there: in any case, anywhere in the line.
    assert redact("authorization: BeArEr s3cr3t-value") == "authorization: BeArEr [REDACTED]"
    assert redact("x Sig=abc") == "x Sig=[REDACTED]" and redact("GET /api/health 200") == "GET /api/health 200"


def test_tokens_never_reach_the_server_logs(server, http: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    account = new_account(http, "logged")
    task_id = start_generation(http, account, 1)
    r = http.get(f"/api/generate/stream/{task_id}", params={"access_token": account.access_token})
    assert r.status_code == 200
    ticket = http.post(f"/api/generate/{task_id}/stream-ticket", headers=account.headers).json()["ticket"]
    http.get(f"/api/generate/stream/{task_id}", params={"ticket": ticket})
    http.get("/api/auth/me", params={"access_token": account.access_token})
    _, got = read_stream(http, task_id, account)
    image_url = next(e[2]["image_url"] for e in got.events if e[1] == "complete")
    http.get(image_url)
    logs = server.logs()
    assert f"/api/generate/stream/{task_id}" in logs  # the access log is on, so the check means something
    for secret in (account.access_token, account.refresh_token, ticket, image_url.split("sig=")[1]):
        assert secret not in logs
    assert "access_token=[REDACTED]" in logs


def _metric(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def test_metrics_count_streams_and_refreshes(make_server) -> None:  # type: ignore[no-untyped-def]
    live = make_server(offline_delay=0.5, page_concurrency=1).start()  # streams stay open a while
    http = httpx.Client(base_url=live.url, timeout=30)
    account = new_account(http, "metered")
    task_id = start_generation(http, account, 2)
    before = http.get("/api/metrics").text
    with connect_sse(http, "GET", f"/api/generate/stream/{task_id}", headers=account.headers) as source:
        events = source.iter_sse()  # kept referenced: closing it would close the stream
        next(sse for sse in events if sse.id)
        during = http.get("/api/metrics").text
        assert _metric(during, "inkstream_sse_streams_open") == _metric(before, "inkstream_sse_streams_open") + 1
    _, got = read_stream(http, task_id, account)
    after = http.get("/api/metrics").text
    sent = _metric(after, "inkstream_sse_events_sent_total") - _metric(before, "inkstream_sse_events_sent_total")
    assert sent >= 1 + len(got.events)  # the first stream's event(s), then the whole log
    for _ in range(50):  # the server sees the first stream's disconnect a moment after the client left
        if _metric(http.get("/api/metrics").text, "inkstream_sse_streams_open") == 0:
            break
        time.sleep(0.1)
    assert _metric(http.get("/api/metrics").text, "inkstream_sse_streams_open") == 0
    http.get(f"/api/generate/stream/{task_id}")  # 401 token_missing
    http.post("/api/auth/refresh", json={"refresh_token": "nope"})
    text = http.get("/api/metrics").text
    assert 'inkstream_sse_requests_total{outcome="opened"}' in text
    assert 'inkstream_sse_requests_total{outcome="token_missing"}' in text
    assert 'inkstream_token_refresh_total{outcome="token_invalid"}' in text
    assert "inkstream_sse_streams_open" in text
    http.close()
