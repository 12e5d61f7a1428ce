"""The `inkstream` command: `serve`, `user create`; the client commands live in inkstream.client."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from inkstream.config import ConfigError, Settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from inkstream.api.dead_clients import protocol_with_user_timeout
    from inkstream.app import create_app
    from inkstream.logs import log_config

    settings = Settings()
    _wait_for_services(settings, args.log_level)
    host = args.host or settings.host
    port = args.port if args.port is not None else settings.port
    print(f"Inkstream on http://{host}:{port}  (data: {settings.data_dir.resolve()}, env: {settings.env})",
          flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=log_config(args.log_level.upper()),
                timeout_graceful_shutdown=3, proxy_headers=False,
                http=protocol_with_user_timeout(settings.tcp_user_timeout), backlog=settings.listen_backlog)
    return 0


def _wait_for_services(settings: Settings, log_level: str) -> None:
    import logging.config

    from inkstream.logs import log_config
    from inkstream.startup import wait_for_services

    logging.config.dictConfig(log_config(log_level.upper()))
    wait_for_services(settings)


def _worker(args: argparse.Namespace) -> int:
    from inkstream.tasks.worker import serve_worker

    settings = Settings()
    _wait_for_services(settings, args.log_level)
    asyncio.run(serve_worker(settings))
    return 0


async def _create_user(username: str, password: str, role: str) -> None:
    from inkstream.services import build_auth
    from inkstream.storage.database import Database

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.sqlalchemy_url)
    try:
        await db.migrate()
        user = await build_auth(settings, db).register(username, password, role=role)
        print(f"created user {user.username} (id {user.id}, {user.role})")
    finally:
        await db.close()


def _user_create(args: argparse.Namespace) -> int:
    from inkstream.errors import InkstreamError

    password = os.environ.get("INKSTREAM_NEW_PASSWORD") or getpass.getpass("password: ")
    try:
        asyncio.run(_create_user(args.username, password, "admin" if args.admin else args.role))
    except InkstreamError as exc:
        print(f"error: {exc.message} ({exc.code})", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inkstream", description="Inkstream: topic → Xiaohongshu image post.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the service (embedded SQLite + in-process worker by default)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.set_defaults(func=_serve)

    worker = sub.add_parser("worker", help="run page jobs from the Redis queue (distributed mode)")
    worker.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    worker.set_defaults(func=_worker)

    user = sub.add_parser("user", help="manage accounts").add_subparsers(dest="user_command", required=True)
    create = user.add_parser("create", help="create an account (password from INKSTREAM_NEW_PASSWORD or a prompt)")
    create.add_argument("username")
    create.add_argument("--admin", action="store_true", help="same as --role admin")
    create.add_argument("--role", default="user", choices=["user", "pro", "admin"])
    create.set_defaults(func=_user_create)

    from inkstream.client.cli import add_client_commands  # argparse only: the SDK and Rich load when one runs

    add_client_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
