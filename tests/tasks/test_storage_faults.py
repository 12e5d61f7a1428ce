"""The image directory fails mid-task (disk full, or the directory gone): the pages that could not be stored end
with a typed, retryable error, the service keeps serving, nothing half-written is ever served, and a retry once
the disk is back finishes the task."""

from __future__ import annotations

import base64
import errno
import io
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from PIL import Image

from inkstream.errors import ImageWriteFailed
from inkstream.storage.images import ImageStore
from tests.support.client import Account, new_account, pages, read_stream, start_generation

PAGES = 5


@contextmanager
def tmpfs(directory: Path, size: str = "16m") -> Iterator[Path]:
    """A small tmpfs mounted on `directory` (root only); always unmounted afterwards."""
    directory.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "inkstream-test", str(directory)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


def fill_up(directory: Path, leave: int = 4096) -> Path:
    """Fill the filesystem of `directory`, then free `leave` bytes: the next image starts, then runs out."""
    filler = directory / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        chunk = b"\0" * (1 << 20)
        while True:
            try:
                os.write(fd, chunk)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    finally:
        os.close(fd)
    os.truncate(filler, filler.stat().st_size - leave)
    return filler


def _images(task_id: str, root: Path) -> list[str]:
    folder = root / task_id
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _assert_serving(http: httpx.Client) -> None:
    assert http.get("/api/health").status_code == 200
    other = new_account(http, prefix="bystander")
    assert http.get("/api/history", headers=other.headers).status_code == 200


def _run_with_fault(make_server: Callable[..., object], inject: Callable[[Path], Callable[[], None]],
                    images_root: Callable[[Path], Path]) -> None:
    live = make_server(offline_delay=0.4, page_concurrency=1, worker_concurrency=1)
    data_dir: Path = live.data_dir  # type: ignore[attr-defined]
    live.start()  # type: ignore[attr-defined]
    with httpx.Client(base_url=live.url, timeout=30) as http:  # type: ignore[attr-defined]
        account = new_account(http)
        task_id = start_generation(http, account, PAGES)
        # Wait for the first stored page, then break the image directory while the others are being made.
        deadline = time.monotonic() + 30
        while http.get(f"/api/generate/{task_id}", headers=account.headers).json()["completed"] < 1:
            assert time.monotonic() < deadline, "no page was stored"
            time.sleep(0.05)
        restore = inject(data_dir / "images")
        status, got = read_stream(http, task_id, account, timeout=60)
        assert status == 200 and got.finished
        assert got.ids == list(range(1, got.last_id + 1))
        errors = {e[2]["index"]: e[2] for e in got.events if e[1] == "error"}
        done = {e[2]["index"] for e in got.events if e[1] == "complete"}
        assert errors and 0 in done and not done & set(errors) and done | set(errors) == set(range(PAGES))
        for error in errors.values():
            assert error["retryable"] is True and "could not be stored" in error["message"], error
        finish = got.events[-1][2]
        assert finish["success"] is False and sorted(finish["failed_indices"]) == sorted(errors)
        _assert_serving(http)
        for index in errors:  # nothing half-written: no file, no temp file, a 404
            r = http.get(f"/api/images/{task_id}/{index}.png", headers=account.headers)
            assert (r.status_code, r.json()["code"]) == (404, "image_not_found")
        assert not [n for n in _images(task_id, images_root(data_dir)) if not n.endswith((".png", ".webp"))]
        assert http.get(f"/api/generate/{task_id}", headers=account.headers).json()["status"] in ("partial",
                                                                                                  "failed")

        restore()
        r = http.post(f"/api/generate/{task_id}/retry", headers=account.headers)
        assert r.status_code == 202, r.text
        status, got = read_stream(http, task_id, account, after=got.last_id, received=got, timeout=60)
        assert status == 200 and got.finished and got.events[-1][2]["success"] is True
        _assert_complete_images(http, account, task_id)
        print(f"\nstorage fault ({live.mode}): {len(done)} of {PAGES} pages stored, {len(errors)} failed retryably, "  # type: ignore[attr-defined]
              f"service kept serving, nothing partial served; retry after the fix: {PAGES}/{PAGES} pages")


def _assert_complete_images(http: httpx.Client, account: Account, task_id: str) -> None:
    for index in range(PAGES):
        r = http.get(f"/api/images/{task_id}/{index}.png", headers=account.headers)
        assert r.status_code == 200
        Image.open(io.BytesIO(r.content)).load()  # decodes to the last byte


def test_disk_full_mid_task_fails_pages_retryably_and_serves_nothing_partial(make_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def inject(images: Path) -> Callable[[], None]:
        filler = fill_up(images)
        return lambda: filler.unlink()

    with tmpfs(tmp_path / "server0" / "images"):
        _run_with_fault(make_server, inject, lambda data: data / "images")


def test_image_directory_gone_mid_task_fails_pages_retryably(make_server) -> None:  # type: ignore[no-untyped-def]
    """As root, chmod does not stop a write; a regular file where the directory was does."""
    moved: dict[str, Path] = {}

    def inject(images: Path) -> Callable[[], None]:
        moved["to"] = images.with_name("images.moved")
        images.rename(moved["to"])
        images.write_text("not a directory")

        def restore() -> None:
            images.unlink()
            moved["to"].rename(images)

        return restore

    _run_with_fault(make_server, inject, lambda data: moved.get("to", data / "images"))


def test_reference_images_on_a_full_disk_are_a_503_not_a_500(make_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    png = io.BytesIO()
    Image.new("RGB", (300, 300), (10, 20, 30)).save(png, "PNG")
    image = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    with tmpfs(tmp_path / "server0" / "uploads", size="1m") as uploads:
        live = make_server().start()
        with httpx.Client(base_url=live.url, timeout=30) as http:
            account = new_account(http)
            filler = fill_up(uploads, leave=0)
            r = http.post("/api/generate", json={"pages": pages(2), "user_images": [image]}, headers=account.headers)
            assert (r.status_code, r.json()["code"]) == (503, "image_write_failed"), r.text
            assert "No space left" in r.json()["message"]
            assert sorted(p.name for p in uploads.iterdir()) == ["filler.bin"]  # nothing half-written kept
            _assert_serving(http)
            filler.unlink()
            r = http.post("/api/generate", json={"pages": pages(2), "user_images": [image]}, headers=account.headers)
            assert r.status_code == 202, r.text
        live.stop()


def test_a_failed_overwrite_keeps_the_previous_image_whole(tmp_path: Path) -> None:
    """Regenerating a page on a full disk: the old image stays, no temp file is left."""
    with tmpfs(tmp_path / "images", size="1m") as root:
        store = ImageStore(root, "k" * 32, 60)
        task = "a" * 32
        store.save(task, 0, b"old image")
        fill_up(root, leave=4096)
        with pytest.raises(ImageWriteFailed) as failed:
            store.save(task, 0, os.urandom(64 * 1024))
        assert failed.value.code == "image_write_failed" and "No space left" in failed.value.message
        assert (root / task / "0.png").read_bytes() == b"old image"
        assert sorted(p.name for p in (root / task).iterdir()) == ["0.png"]
    shutil.rmtree(tmp_path / "images", ignore_errors=True)
