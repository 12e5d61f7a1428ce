"""The seed's three figures ("监控告警": SSE connection failure rate, token refresh success rate, average
reconnects), from the server's rollups and from the clients' reports, as totals and as time series.

Server side, every stream request is a connection: sessions = connections (opened + resumed + refused), failed =
refused connections (401 / 404 / 422), reconnects = connections that resumed from a Last-Event-ID. Client side, a
session is one client following one task across its reconnects (see usage/telemetry.py). Then, on both sides:
failure rate = failed / sessions; refresh success = ok / attempts; reconnects per session = reconnects / sessions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _prefixed(counts: Mapping[str, int], prefix: str) -> int:
    return sum(v for k, v in counts.items() if k.startswith(prefix))


def server_figures(c: Mapping[str, int]) -> dict[str, Any]:
    refused = _prefixed(c, "stream.refused.")
    reconnects = c.get("stream.resumed", 0) + c.get("stream.reconnect_refused", 0)
    sessions = c.get("stream.opened", 0) + c.get("stream.resumed", 0) + refused
    attempts = c.get("refresh.ok", 0) + _prefixed(c, "refresh.failed.")
    return {
        "streams": {"sessions": sessions, "failed": refused, "failure_rate": _ratio(refused, sessions),
                    "reconnects": reconnects, "reconnects_per_session": _ratio(reconnects, sessions),
                    "refused_by_code": {k.removeprefix("stream.refused."): v for k, v in c.items()
                                        if k.startswith("stream.refused.")},
                    "closed_by_client": c.get("stream.closed.client", 0),
                    "closed_after_finish": c.get("stream.closed.finish", 0),
                    "closed_revoked": c.get("stream.closed.revoked", 0),
                    "finished_204": c.get("stream.finished_204", 0)},
        "refresh": {"attempts": attempts, "succeeded": c.get("refresh.ok", 0),
                    "success_rate": _ratio(c.get("refresh.ok", 0), attempts),
                    "failed_by_code": {k.removeprefix("refresh.failed."): v for k, v in c.items()
                                       if k.startswith("refresh.failed.")}},
    }


def client_figures(c: Mapping[str, int]) -> dict[str, Any]:
    sessions, failed, reconnects = c.get("client.sessions", 0), c.get("client.failed", 0), c.get("client.reconnects", 0)
    attempts, ok = c.get("client.refresh.attempts", 0), c.get("client.refresh.ok", 0)
    return {
        "streams": {"sessions": sessions, "failed": failed, "failure_rate": _ratio(failed, sessions),
                    "reconnects": reconnects, "reconnects_per_session": _ratio(reconnects, sessions),
                    "abandoned": c.get("client.outcome.abandoned", 0),
                    "reasons": {k.removeprefix("client.reconnect."): v for k, v in c.items()
                                if k.startswith("client.reconnect.")},
                    "connected_seconds": round(c.get("client.connected_ms", 0) / 1000, 1)},
        "refresh": {"attempts": attempts, "succeeded": ok, "success_rate": _ratio(ok, attempts)},
    }


def series_point(c: Mapping[str, int]) -> dict[str, Any]:
    server, client = server_figures(c), client_figures(c)
    return {
        "server_sessions": server["streams"]["sessions"], "server_failed": server["streams"]["failed"],
        "server_failure_rate": server["streams"]["failure_rate"],
        "server_reconnects_per_session": server["streams"]["reconnects_per_session"],
        "server_refresh_success_rate": server["refresh"]["success_rate"],
        "client_sessions": client["streams"]["sessions"], "client_failed": client["streams"]["failed"],
        "client_failure_rate": client["streams"]["failure_rate"],
        "client_reconnects_per_session": client["streams"]["reconnects_per_session"],
        "client_refresh_success_rate": client["refresh"]["success_rate"],
    }
