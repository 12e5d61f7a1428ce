"""The client commands of `inkstream`: login, logout, generate, watch, history, download.

Only argparse is imported here; the SDK, httpx and Rich load when one of these commands runs, so `inkstream
serve` starts no slower for them.
"""

from __future__ import annotations

import argparse
from typing import Any

EXIT_OK = 0  # done; every page has its image
EXIT_TASK_FAILED = 1  # the task failed, partly failed or was cancelled; or the service refused (conflict, busy)
EXIT_USAGE = 2  # bad arguments or input (also when the service rejects the input as invalid)
EXIT_AUTH = 3  # not logged in, wrong password, or the login expired / was revoked: run `inkstream login`
EXIT_NOT_FOUND = 4  # no such task (or not yours)
EXIT_NETWORK = 5  # the service could not be reached, the connection kept failing, or the service errored (5xx)
EXIT_INTERRUPTED = 130  # Ctrl-C

EXIT_CODES_HELP = """exit codes:
  0  success
  1  the task failed, partly failed or was cancelled; or the service refused the request (conflict, busy)
  2  usage error, or input the service rejected as invalid
  3  authentication: not logged in, wrong credentials, login expired or revoked (run `inkstream login`)
  4  not found: no such task (or it is not yours)
  5  network: the service is unreachable, the connection kept failing, or the service failed (5xx)
environment:
  INKSTREAM_SERVER      service URL (default http://127.0.0.1:8000; --server wins)
  INKSTREAM_CONFIG_DIR  where credentials.json is kept (default: the user config dir)
  INKSTREAM_PASSWORD    password for `inkstream login` without a prompt
"""


def _run(name: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        from inkstream.client import commands

        return commands.main(name, args)

    return run


def add_client_commands(sub: Any) -> None:
    """Register the client subcommands on the `inkstream` parser's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", default=None, metavar="URL",
                        help="service URL (default: $INKSTREAM_SERVER, the server you logged in to, "
                             "or http://127.0.0.1:8000)")

    def add(name: str, help_: str) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=help_, parents=[common], epilog=EXIT_CODES_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.set_defaults(func=_run(name))
        return parser

    login = add("login", "log in and keep the tokens (not the password) in the user config dir")
    login.add_argument("--username", "-u", default=None, help="asked for when not given")
    login.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    add("logout", "revoke this login on the service and forget it")

    generate = add("generate", "topic → outline → one image per page, followed live, images saved")
    generate.add_argument("topic")
    generate.add_argument("--pages", type=int, default=None, metavar="N",
                          help="keep at most N pages of the outline (the last, summary page is kept)")
    generate.add_argument("--out", default=None, metavar="DIR", help="where to save images (./inkstream-<task>)")
    generate.add_argument("--edit", action="store_true", help="edit the outline in $EDITOR before generating")

    watch = add("watch", "follow a task's progress live (from the start, across reconnects)")
    watch.add_argument("task_id")

    history = add("history", "list your tasks, newest first")
    history.add_argument("--page", type=int, default=1)
    history.add_argument("--page-size", type=int, default=20)

    add("quota", "how many pages today's quota leaves (今日剩余)")

    download = add("download", "save a task's images as page_01.png, page_02.png…")
    download.add_argument("task_id")
    download.add_argument("--out", default=None, metavar="DIR", help="where to save images (./inkstream-<task>)")
