"""Generated image files on disk and the signed, expiring URLs that open them.

URLs are signed for the task's owner (HMAC-SHA256 over owner, task, file and expiry) so that an `<img>` tag can
load them without an Authorization header, and nobody else can forge one. Events in the log keep the unsigned path;
the stream and the status endpoints sign it when they hand it to the owner, so a replayed event never carries a
stale signature.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import logging
import os
import re
import time
from pathlib import Path
from urllib.parse import urlencode

from PIL import Image

from inkstream.errors import ImageNotFound, ImageWriteFailed

TASK_ID_RE = re.compile(r"^[0-9a-f]{32}$")
FILE_RE = re.compile(r"^[0-9]{1,3}\.(png|webp)$")
log = logging.getLogger(__name__)
URL_PREFIX = "/api/images/"
PREVIEW_WIDTH = 540  # half the card: sharp in a grid column or a history card on a 2x screen
PREVIEW_QUALITY = 80
MEDIA_TYPES = {"png": "image/png", "webp": "image/webp"}


def preview_name(file_name: str) -> str:
    """The preview beside an image: `3.png` → `3.webp`."""
    return file_name.rsplit(".", 1)[0] + ".webp"


def make_preview(png: bytes, width: int = PREVIEW_WIDTH) -> bytes:
    """A WebP of the image scaled to `width` pixels (never enlarged), for grids and history cards."""
    with Image.open(io.BytesIO(png)) as opened:
        image: Image.Image = opened
        image.load()
        if image.width > width:
            size = (width, max(1, round(image.height * width / image.width)))
            image = image.resize(size, Image.Resampling.LANCZOS)
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        out = io.BytesIO()
        image.save(out, format="WEBP", quality=PREVIEW_QUALITY, method=4)
        return out.getvalue()


class ImageStore:
    def __init__(self, root: Path, secret: str, url_ttl: int) -> None:
        self._root = root.resolve()
        self._secret = secret.encode()
        self._ttl = url_ttl

    @staticmethod
    def file_name(index: int) -> str:
        return f"{index}.png"

    @staticmethod
    def unsigned_url(task_id: str, file_name: str) -> str:
        return f"{URL_PREFIX}{task_id}/{file_name}"

    def path(self, task_id: str, file_name: str) -> Path:
        """The file's path; refuses anything that is not exactly `<task hex id>/<n>.png|webp` inside the root."""
        if not TASK_ID_RE.match(task_id) or not FILE_RE.match(file_name):
            raise ImageNotFound("No such image.")
        path = (self._root / task_id / file_name).resolve()
        if path.parent.parent != self._root:
            raise ImageNotFound("No such image.")
        return path

    def save(self, task_id: str, index: int, png: bytes) -> str:
        """Write the PNG and its WebP preview, each atomically (temp file, fsync, rename), so a reader never sees
        half an image; the preview goes first: once the PNG exists, so does its preview. A failed write (disk full,
        directory unwritable or gone) leaves no temp file behind and raises ImageWriteFailed."""
        name = self.file_name(index)
        try:
            preview = make_preview(png)
        except (OSError, ValueError) as exc:  # not decodable here: the page keeps its image, without a preview
            log.warning("no preview for %s/%s: %s", task_id, name, exc)
        else:
            self._write(task_id, preview_name(name), preview)
        try:
            self._write(task_id, name, png)
        except ImageWriteFailed:
            with contextlib.suppress(OSError):  # no preview without its image
                self.path(task_id, preview_name(name)).unlink(missing_ok=True)
            raise
        return name

    def _write(self, task_id: str, name: str, data: bytes) -> None:
        path = self.path(task_id, name)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())  # ENOSPC may only show here; and the rename must not outrun the data
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
            raise ImageWriteFailed(f"The image could not be stored ({reason}); retry the page.") from exc

    def preview_url(self, task_id: str, file_name: str) -> str | None:
        """The unsigned URL of an image's preview, or None when it has none (pages drawn before previews)."""
        name = preview_name(file_name)
        return self.unsigned_url(task_id, name) if (self._root / task_id / name).is_file() else None

    def _signature(self, owner_id: int, task_id: str, file_name: str, expires: int) -> str:
        message = f"{owner_id}:{task_id}/{file_name}:{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(self, owner_id: int, url: str) -> str:
        """Turn an unsigned `/api/images/<task>/<file>` URL into one the owner can open for url_ttl seconds."""
        task_id, _, file_name = url[len(URL_PREFIX):].partition("/")
        # Expiry rounded up to a minute: the same image gets the same URL for a while, so browsers can cache it.
        expires = (int(time.time()) + self._ttl) // 60 * 60 + 60
        query = urlencode({"exp": expires, "sig": self._signature(owner_id, task_id, file_name, expires)})
        return f"{url}?{query}"

    def verify(self, owner_id: int, task_id: str, file_name: str, expires: str, signature: str) -> bool:
        if not expires.isdigit() or int(expires) < time.time():
            return False
        expected = self._signature(owner_id, task_id, file_name, int(expires))
        return hmac.compare_digest(expected, signature)
