"""The wheel is the product: built from this checkout, installed into a fresh venv outside it, `inkstream serve`
from that venv serves the web UI, migrates its database, finds its prompts and finishes a generation."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.client import new_account, read_stream, start_generation
from tests.support.server import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "inkstream"

# Run inside the installed venv: where the package lives, and each prompt template as its loader returns it.
PROBE = """
import json, inkstream
from importlib import resources
from inkstream.generators.prompts import load_prompt
print(json.dumps({"file": inkstream.__file__, "outline": load_prompt("outline"), "image": load_prompt("image"),
                  "example": resources.files("inkstream.generators.remote")
                  .joinpath("providers.example.yaml").read_text()}))
"""


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("INKSTREAM_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    return {**env, **extra}


def _run(args: list[str], cwd: Path, timeout: float = 600) -> str:
    done = subprocess.run(args, cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed() -> Iterator[Path]:
    """A fresh venv in a temp dir outside the checkout, with only the wheel built from it (and its dependencies)."""
    root = Path(tempfile.mkdtemp(prefix="inkstream-wheel-"))
    assert not root.is_relative_to(REPO)
    try:
        _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(root / "dist"), str(REPO)], cwd=root)
        wheels = list((root / "dist").glob("inkstream-*.whl"))
        assert len(wheels) == 1, wheels
        _run([sys.executable, "-m", "venv", str(root / "venv")], cwd=root)
        _run([str(root / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheels[0])], cwd=root)
        yield root
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=False)


def test_the_wheel_holds_every_file_of_the_package(installed: Path) -> None:
    """Package data that a later change adds (a template, a migration, a UI file) must not be left behind."""
    wheel = next((installed / "dist").glob("inkstream-*.whl"))
    inside = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("inkstream/")}
    source = {p.relative_to(REPO).as_posix() for p in PACKAGE.rglob("*")
              if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert len(source) > 50 and source <= inside, sorted(source - inside)


def test_installed_package_has_its_prompts_and_data(installed: Path) -> None:
    import json

    out = json.loads(_run([str(installed / "venv" / "bin" / "python"), "-c", PROBE], cwd=installed))
    assert Path(out["file"]).is_relative_to(installed / "venv"), out["file"]  # not the checkout
    assert out["outline"] == (PACKAGE / "generators" / "prompts" / "outline.txt").read_text(encoding="utf-8")
    assert out["image"] == (PACKAGE / "generators" / "prompts" / "image.txt").read_text(encoding="utf-8")
    assert out["example"] == (PACKAGE / "generators" / "remote" / "providers.example.yaml").read_text(encoding="utf-8")


def test_serve_from_the_wheel_runs_the_ui_migrations_and_a_generation(installed: Path) -> None:
    run_dir = installed / "run"
    run_dir.mkdir()
    port = free_port()
    log_path = run_dir / "serve.log"
    with open(log_path, "wb") as log:
        # Default settings, as a user gets them: the data dir is ./inkstream-data in the working directory.
        proc = subprocess.Popen([str(installed / "venv" / "bin" / "inkstream"), "serve", "--port", str(port)],
                                cwd=run_dir, env=_clean_env(), stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        with httpx.Client(base_url=url, timeout=30) as http:
            index = http.get("/")
            assert index.status_code == 200 and 'src="js/app.js"' in index.text
            for asset in ("/js/app.js", "/js/views/task.js", "/css/app.css"):
                assert http.get(asset).status_code == 200, asset
            account = new_account(http)  # register + login: the migrations ran
            assert (run_dir / "inkstream-data" / "inkstream.db").is_file()
            task_id = start_generation(http, account, 2)
            status, received = read_stream(http, task_id, account, timeout=120)
            assert status == 200 and received.finished, received.events
            finish = received.events[-1][2]
            assert finish["success"] is True and finish["completed"] == 2
            image = http.get(finish["images"][0])
            assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        proc.terminate()
        proc.wait(15)
