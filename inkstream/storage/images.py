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
import os
import re
import time
from pathlib import Path
from urllib.parse import urlencode

from inkstream.errors import ImageNotFound, ImageWriteFailed

TASK_ID_RE = re.compile(r"^[0-9a-f]{32}$")
FILE_RE = re.compile(r"^[0-9]{1,3}\.png$")
URL_PREFIX = "/api/images/"


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
        """The file's path; refuses anything that is not exactly `<task hex id>/<n>.png` inside the root."""
        if not TASK_ID_RE.match(task_id) or not FILE_RE.match(file_name):
            raise ImageNotFound("No such image.")
        path = (self._root / task_id / file_name).resolve()
        if path.parent.parent != self._root:
            raise ImageNotFound("No such image.")
        return path

    def save(self, task_id: str, index: int, png: bytes) -> str:
        """Write atomically (temp file, fsync, rename), so a reader never sees half an image; a failed write
        (disk full, directory unwritable or gone) leaves no temp file behind and raises ImageWriteFailed."""
        name = self.file_name(index)
        path = self.path(task_id, name)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(png)
                f.flush()
                os.fsync(f.fileno())  # ENOSPC may only show here; and the rename must not outrun the data
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
            raise ImageWriteFailed(f"The image could not be stored ({reason}); retry the page.") from exc
        return name

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
