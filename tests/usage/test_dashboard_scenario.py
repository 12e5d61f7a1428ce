"""The seed's three figures from both ends, against a script with known numbers, in both modes.

The script: N = 5 stream sessions through the SDK with stream reporting on — 3 follow real tasks to `finish`
through a proxy that cuts them M = 3 times in all, 2 ask for a task that does not exist (F = 2 failed, 404);
during the first session the client refreshes its tokens K = 4 times, of which J = 1 is refused.

Expected, server side (every stream request is a connection): sessions = N + M = 8, failed = F = 2,
reconnects = M = 3; refresh attempts = K = 4, succeeded = K − J = 3. Client side (one session per task followed):
sessions = N = 5, failed = F = 2, reconnects = M = 3; refresh attempts = 4, succeeded = 3.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from inkstream.client import AsyncInkstream
from inkstream.client.errors import AuthError, NotFound
from inkstream.client.tokens import Tokens
from tests.client.conftest import fast_policy
from tests.support.client import Account, login, pages
from tests.support.fault_proxy import FaultProxy
from tests.support.server import LiveServer

STREAM = "/api/generate/stream/"
ADMIN = Account("dash_admin", "admin password 123")
N_OK, F, M, K, J = 3, 2, 3, 4, 1
EXPECTED_SERVER = {"sessions": N_OK + F + M, "failed": F, "reconnects": M}
EXPECTED_CLIENT = {"sessions": N_OK + F, "failed": F, "reconnects": M}


async def run_script(server: LiveServer) -> None:
    proxy = FaultProxy(server.port).start()
    client = AsyncInkstream(f"http://127.0.0.1:{proxy.port}", reconnect=fast_policy(), report_streams=True)
    try:
        name = f"dash_{uuid.uuid4().hex[:8]}"
        await client.register(name, "long enough 1")
        await client.login(name, "long enough 1")
        tasks = [(await client.generate(pages(6), topic="周末露营")).task_id for _ in range(N_OK)]
        cuts_left = M
        for n, task_id in enumerate(tasks):
            async for event in client.stream(task_id):
                if n == 0 and event.id == 1:
                    for _ in range(K - J):
                        await client.refresh()
                    good = client.session.tokens
                    assert good is not None
                    client.session.set_tokens(Tokens(good.access_token, "not-a-refresh-token", good.expires_at))
                    try:
                        await client.refresh()
                        raise AssertionError("a bogus refresh token was accepted")
                    except AuthError:
                        pass
                    client.session.set_tokens(good)
                # Cut mid-task, while the stream is open (an event already buffered may arrive after a cut):
                # the SDK resumes from the last event it handed out.
                if cuts_left and event.id >= 2 and proxy.cut(0, match=STREAM) == 1:
                    cuts_left -= 1
        assert cuts_left == 0
        for _ in range(F):
            try:
                async for _event in client.stream(uuid.uuid4().hex):
                    raise AssertionError("a missing task streamed")
            except NotFound:
                pass
    finally:
        await client.aclose()  # sends the last reports
        proxy.stop()


def wait_for(check: Callable[[], dict[str, Any] | None], seconds: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    last: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        last = check()
        if last is not None and last.get("_ok"):
            return last
        time.sleep(0.5)
    raise AssertionError(f"the dashboard never showed the expected figures; last: {last}")


def test_the_dashboard_shows_what_the_script_caused(make_server: Callable[..., LiveServer]) -> None:
    server = make_server(admin_username=ADMIN.username, admin_password=ADMIN.password,
                         max_running_tasks_per_user=20, offline_delay=0.3, page_concurrency=1,
                         heartbeat_interval=1).start()
    asyncio.run(run_script(server))
    with httpx.Client(base_url=server.url, timeout=30) as http:
        admin = Account(ADMIN.username, ADMIN.password)
        login(http, admin)

        def check() -> dict[str, Any] | None:
            body = http.get("/api/admin/dashboard/stats?period=1h", headers=admin.headers).json()
            s, c = body["server"], body["client"]
            ok = (all(s["streams"][k] == v for k, v in EXPECTED_SERVER.items())
                  and all(c["streams"][k] == v for k, v in EXPECTED_CLIENT.items())
                  and s["refresh"]["attempts"] == K and s["refresh"]["succeeded"] == K - J
                  and c["refresh"]["attempts"] == K and c["refresh"]["succeeded"] == K - J)
            return {**body, "_ok": ok}

        body = wait_for(check)
        server_side, client_side = body["server"], body["client"]
        print("server:", server_side["streams"], server_side["refresh"])
        print("client:", client_side["streams"], client_side["refresh"])
        assert server_side["streams"]["failure_rate"] == round(F / (N_OK + F + M), 4)
        assert client_side["streams"]["failure_rate"] == round(F / (N_OK + F), 4)
        assert client_side["streams"]["reconnects_per_session"] == round(M / (N_OK + F), 4)
        assert server_side["refresh"]["success_rate"] == 0.75 == client_side["refresh"]["success_rate"]
        assert server_side["streams"]["refused_by_code"] == {"task_not_found": F}
        assert client_side["streams"]["reasons"].get("network") == M
        # The failures form a visible burst: some bucket of the series has them, the others none.
        assert sum(p["server_failed"] for p in body["series"]) == F
        assert max(p["client_failure_rate"] or 0 for p in body["series"]) > 0
        # The same totals over a day and a week, and on the rest of the dashboard.
        for period in ("1d", "7d"):
            other = http.get(f"/api/admin/dashboard/stats?period={period}", headers=admin.headers).json()
            assert other["server"]["streams"]["sessions"] == EXPECTED_SERVER["sessions"]
            assert other["client"]["streams"]["sessions"] == EXPECTED_CLIENT["sessions"]
        assert body["users"]["total"] == 2 and body["users"]["new_this_week"] == 2
        assert sum(d["pages"] for d in body["pages"]["per_day"]) == N_OK * 6
        assert sum(d["done"] for d in body["tasks"]["per_day"]) == N_OK
        assert body["storage"]["images"] == N_OK * 6 and body["storage"]["bytes"] > 0
        assert any(n["kind"] == "api" for n in body["nodes"])
        if server.backend is not None:
            assert any(n["kind"] == "worker" for n in body["nodes"])
        assert body["queue"]["depth"] == 0
        bad = http.get("/api/admin/dashboard/stats?period=2y", headers=admin.headers)
        assert bad.status_code == 422
