"""Prometheus metrics of this API node: the numbers the reference system never had (stream failures by reason,
resumes, token refresh outcomes), served at GET /api/metrics."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest

from inkstream.api.deps import ServicesDep
from inkstream.errors import Forbidden
from inkstream.usage.dashboard import live_nodes, queue_depth
from inkstream.usage.telemetry import StreamReport

registry = CollectorRegistry()
STREAMS_OPEN = Gauge("inkstream_sse_streams_open", "SSE streams open on this node", registry=registry)
STREAM_REQUESTS = Counter(
    "inkstream_sse_requests_total", "Stream requests by outcome (opened, resumed, finished_204, or error code)",
    ["outcome"], registry=registry,
)
EVENTS_SENT = Counter("inkstream_sse_events_sent_total", "Task events written to SSE streams", registry=registry)


class _PrometheusStreamCounters:
    """What events/stream.py reports about each stream, counted here."""

    def opened(self) -> None:
        STREAMS_OPEN.inc()

    def closed(self) -> None:
        STREAMS_OPEN.dec()

    def event_sent(self) -> None:
        EVENTS_SENT.inc()


STREAM_COUNTERS = _PrometheusStreamCounters()
TOKEN_REFRESHES = Counter(
    "inkstream_token_refresh_total", "Refresh-token rotations by outcome (ok or error code)", ["outcome"],
    registry=registry,
)

CLIENT_SESSIONS = Counter(
    "inkstream_client_stream_sessions_total", "Stream sessions reported by clients, by outcome", ["outcome"],
    registry=registry,
)
CLIENT_RECONNECTS = Counter("inkstream_client_stream_reconnects_total", "Reconnects reported by clients",
                            registry=registry)
CLIENT_REFRESHES = Counter(
    "inkstream_client_token_refresh_total", "Token refreshes reported by clients, by outcome (ok, failed)",
    ["outcome"], registry=registry,
)
QUEUE_DEPTH = Gauge("inkstream_queue_depth", "Pages waiting or generating, outlines not started", registry=registry)
NODES_ALIVE = Gauge("inkstream_nodes_alive", "API nodes and workers seen in the last 30 s", ["kind"],
                    registry=registry)


def client_report_counted(report: StreamReport) -> None:
    CLIENT_SESSIONS.labels(report.outcome).inc()
    CLIENT_RECONNECTS.inc(report.reconnects)
    CLIENT_REFRESHES.labels("ok").inc(report.refreshes.ok)
    CLIENT_REFRESHES.labels("failed").inc(report.refreshes.attempts - report.refreshes.ok)


router = APIRouter(tags=["ops"])


@router.get("/api/metrics", include_in_schema=False)
async def metrics(request: Request, svc: ServicesDep,
                  authorization: Annotated[str | None, Header()] = None) -> Response:
    """With INKSTREAM_METRICS_TOKEN set, a matching Bearer token is required; without it, loopback clients only."""
    token = svc.settings.metrics_token
    if token:
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Forbidden("Metrics need the metrics token.")
    elif not request.client or request.client.host not in ("127.0.0.1", "::1"):
        raise Forbidden("Metrics are served to loopback clients unless INKSTREAM_METRICS_TOKEN is set.")
    # Cluster-wide gauges, read from the database at scrape time (the same on every node).
    QUEUE_DEPTH.set(await queue_depth(svc.usage.db))
    kinds = [n["kind"] for n in await live_nodes(svc.usage.db)]
    NODES_ALIVE.labels("api").set(kinds.count("api"))
    # Embedded: each API node runs its own in-process worker.
    NODES_ALIVE.labels("worker").set(kinds.count("worker") if svc.settings.distributed else kinds.count("api"))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
