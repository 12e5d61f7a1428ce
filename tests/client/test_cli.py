"""The `inkstream` client commands, run as a user would: in a child process (one in a pseudo-terminal) against a
live server; checked by exit code, files written, and what they print."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.client.conftest import PASSWORD
from tests.support.client import new_account, start_generation
from tests.support.server import LiveServer, free_port

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]|\x1b\][^\x07]*\x07|\r")
EDITOR = """import sys, pathlib
p = pathlib.Path(sys.argv[1])
p.write_text(p.read_text(encoding="utf-8").replace("标题：", "标题：EDITED ", 1), encoding="utf-8")
"""


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Embedded mode only: the CLI speaks HTTP, what is behind the service makes no difference to it."""
    server = LiveServer(tmp_path_factory.mktemp("cli-server"), access_token_ttl=2, offline_delay=0.1,
                        heartbeat_interval=1, max_running_tasks_per_user=50)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def user(cli_server: LiveServer) -> str:
    with httpx.Client(base_url=cli_server.url) as http:
        return new_account(http, "cli").username


@pytest.fixture(scope="module")
def env(cli_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a logged-in user's commands (shared by the tests of this module, in order)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("INKSTREAM_")}
    return {**base, "INKSTREAM_SERVER": cli_server.url, "COLUMNS": "110",
            "INKSTREAM_CONFIG_DIR": str(tmp_path_factory.mktemp("config") / "inkstream")}


def cli(env: dict[str, str], *args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inkstream", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def credentials(env: dict[str, str]) -> Path:
    return Path(env["INKSTREAM_CONFIG_DIR"]) / "credentials.json"


def expire_stored_token(env: dict[str, str]) -> str:
    """Mark the stored access token as expired; returns the file's text from before."""
    text = credentials(env).read_text()
    credentials(env).write_text(json.dumps({**json.loads(text), "expires_at": 0}))
    return text


def test_login_keeps_tokens_not_the_password_in_a_0600_file(env: dict[str, str], user: str) -> None:
    r = cli(env, "login", "--username", user, "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert f"Logged in to {env['INKSTREAM_SERVER']} as {user}" in r.stderr
    path = credentials(env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    text = path.read_text()
    assert '"refresh_token"' in text and '"access_token"' in text and PASSWORD not in text


def test_generate_saves_images_and_exits_0(env: dict[str, str], tmp_path: Path) -> None:
    editor = tmp_path / "editor.py"
    editor.write_text(EDITOR)
    before = expire_stored_token(env)  # so the command must refresh first, and save the new pair
    r = cli({**env, "EDITOR": f"{sys.executable} {editor}"}, "generate", "秋天的第一杯奶茶", "--pages", "3",
            "--edit", "--out", str(tmp_path / "post"))
    assert r.returncode == 0, r.stderr
    *saved, post = r.stdout.split()
    assert [Path(p).name for p in saved] == ["page_01.png", "page_02.png", "page_03.png"]
    assert all(Path(p).read_bytes().startswith(b"\x89PNG") for p in saved)
    assert Path(post) == tmp_path / "post" / "post.md"
    markdown = Path(post).read_text(encoding="utf-8")
    assert markdown.startswith("# ") and "## 正文" in markdown and "#奶茶" in markdown
    assert "Outline: 3 pages" in r.stderr and "EDITED" in r.stderr  # the edited outline is what was sent
    assert "finished: 3/3 pages" in r.stderr and "Saved 3 of 3 image(s) and post.md" in r.stderr
    # Not a terminal: plain lines as things happen — the outline as it was written, then each page.
    assert "  │ [封面]" in r.stderr and "  │ 标题：" in r.stderr and "starts over" not in r.stderr
    assert "[0/3] queued, waiting for a worker" in r.stderr  # the task's first event, before any page
    assert "[0/3] page 1 generating" in r.stderr and "page 3 done" in r.stderr and "copy written: " in r.stderr
    assert "overall" not in r.stderr and "1/1 done" not in r.stderr  # no progress bars in a log
    assert credentials(env).read_text() != before
    assert stat.S_IMODE(credentials(env).stat().st_mode) == 0o600


def test_history_watch_and_download_of_a_finished_task(env: dict[str, str], tmp_path: Path) -> None:
    r = cli(env, "history")
    assert r.returncode == 0, r.stderr
    task_id = re.search(r"\b([0-9a-f]{32})\b.*generate.*done", r.stdout).group(1)  # type: ignore[union-attr]
    assert "秋天的第一杯奶茶" in r.stdout
    r = cli(env, "watch", task_id)
    assert r.returncode == 0, r.stderr
    assert f"Task {task_id}: done — 3/3 pages done" in r.stderr
    r = cli(env, "download", task_id, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in (tmp_path / f"inkstream-{task_id[:8]}").iterdir()) == \
           ["page_01.png", "page_02.png", "page_03.png"]


def test_a_cancelled_task_exits_1(env: dict[str, str], cli_server: LiveServer, user: str, tmp_path: Path) -> None:
    with httpx.Client(base_url=cli_server.url) as http:
        account = new_account(http, "cancel")
        task_id = start_generation(http, account, 20)
        assert http.post(f"/api/generate/{task_id}/cancel", headers=account.headers).status_code == 200
    other = {**env, "INKSTREAM_CONFIG_DIR": str(tmp_path / "config")}
    assert cli(other, "login", "-u", account.username, "--password-stdin", stdin=account.password).returncode == 0
    r = cli(other, "watch", task_id)
    assert r.returncode == 1, r.stderr
    assert "cancelled" in r.stderr
    assert cli(other, "download", task_id, "--out", str(tmp_path / "out")).returncode == 1


def test_unknown_task_exits_4(env: dict[str, str]) -> None:
    for command in ("watch", "download"):
        r = cli(env, command, "0" * 32)
        assert r.returncode == 4, r.stderr
        assert "task_not_found" in r.stderr


def test_usage_errors_exit_2(env: dict[str, str]) -> None:
    assert cli(env, "generate", "   ").returncode == 2
    assert cli(env, "generate", "topic", "--pages", "0").returncode == 2
    assert cli(env, "generate").returncode == 2  # argparse: the topic is missing
    r = cli(env, "watch", "not-a-task")
    assert r.returncode == 2 and "validation_error" in r.stderr


def test_auth_failures_exit_3(env: dict[str, str], user: str, tmp_path: Path) -> None:
    fresh = {**env, "INKSTREAM_CONFIG_DIR": str(tmp_path / "none")}
    r = cli(fresh, "history")
    assert r.returncode == 3 and "inkstream login" in r.stderr
    r = cli(fresh, "login", "-u", user, "--password-stdin", stdin="wrong password\n")
    assert r.returncode == 3 and "invalid_credentials" in r.stderr
    assert not credentials(fresh).exists()


def test_unreachable_server_exits_5(env: dict[str, str], user: str) -> None:
    r = cli(env, "login", "-u", user, "--password-stdin", "--server", f"http://127.0.0.1:{free_port()}",
            stdin=PASSWORD)
    assert r.returncode == 5 and "Cannot reach" in r.stderr


def test_logout_revokes_and_forgets_the_login(env: dict[str, str]) -> None:
    stored = credentials(env).read_text()
    r = cli(env, "logout")
    assert r.returncode == 0, r.stderr
    assert not credentials(env).exists()
    assert cli(env, "history").returncode == 3
    credentials(env).write_text(stored)  # the revoked tokens, put back: the service refuses to refresh them
    credentials(env).chmod(0o600)
    expire_stored_token(env)
    r = cli(env, "history")
    assert r.returncode == 3 and "session_revoked" in r.stderr, r.stderr


def run_in_terminal(args: list[str], env: dict[str, str], answers: dict[str, str], timeout: float = 60
                    ) -> tuple[int, str]:
    """Run the command on a pseudo-terminal; answer prompts; return its exit code and everything it drew."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "inkstream", *args], env={**env, "TERM": "xterm-256color"},
                            stdin=follower, stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    output = b""
    pending = dict(answers)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
            for prompt in list(pending):
                if prompt.encode() in output:
                    os.write(leader, pending.pop(prompt).encode() + b"\n")
        elif proc.poll() is not None:
            break
    os.close(leader)
    return proc.wait(10), output.decode(errors="replace")


def test_in_a_terminal_login_prompts_and_generate_draws_live_progress(cli_server: LiveServer, tmp_path: Path
                                                                      ) -> None:
    with httpx.Client(base_url=cli_server.url) as http:
        name = new_account(http, f"tty{uuid.uuid4().hex[:4]}").username
    env = {**os.environ, "INKSTREAM_SERVER": cli_server.url, "INKSTREAM_CONFIG_DIR": str(tmp_path / "config"),
           "COLUMNS": "100", "LINES": "40"}
    code, screen = run_in_terminal(["login"], env, {"username:": name, "password:": PASSWORD})
    assert code == 0, screen
    code, screen = run_in_terminal(["generate", "周末露营", "--pages", "4", "--out", str(tmp_path / "post")], env, {})
    text = ANSI.sub("", screen)
    assert code == 0, text
    assert "\x1b[" in screen  # drawn live, with colours and cursor moves
    for page in range(1, 5):
        assert f"page  {page}" in text
    assert "overall" in text and "finished: 4/4 pages" in text
    assert len(list((tmp_path / "post").glob("page_*.png"))) == 4
