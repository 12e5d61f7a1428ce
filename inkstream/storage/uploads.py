"""The user's reference images: checked by decoding (not by name or header), then kept beside the task."""

from __future__ import annotations

import base64
import binascii
import io
import os
import shutil
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from inkstream.errors import ImageWriteFailed, InvalidInput, PayloadTooLarge

ALLOWED_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}


def decode_reference_images(encoded: list[str], max_count: int, max_bytes: int) -> list[tuple[bytes, str]]:
    """Base64 strings (optionally data URLs) → (bytes, extension); raises a typed error for the first bad one."""
    if len(encoded) > max_count:
        raise InvalidInput("too_many_images", f"At most {max_count} reference images are allowed.", limit=max_count)
    images = []
    for position, item in enumerate(encoded):
        payload = item.split(",", 1)[1] if item.startswith("data:") else item
        if len(payload) > (max_bytes * 4) // 3 + 4:
            raise PayloadTooLarge("image_too_large", f"Reference image {position} is over {max_bytes} bytes.")
        try:
            raw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput("invalid_image", f"Reference image {position} is not valid base64.") from exc
        if len(raw) > max_bytes:
            raise PayloadTooLarge("image_too_large", f"Reference image {position} is over {max_bytes} bytes.")
        images.append((raw, image_extension(raw, position)))
    return images


def image_extension(raw: bytes, position: int = 0) -> str:
    try:
        with Image.open(io.BytesIO(raw)) as img:
            fmt = img.format or ""
            img.verify()  # walks the data: a truncated or forged file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput("invalid_image", f"Reference image {position} is not a readable image.") from exc
    if fmt not in ALLOWED_FORMATS:
        raise InvalidInput("unsupported_image_type", f"Reference image {position} is {fmt or 'unknown'}; "
                           "use PNG, JPEG or WebP.")
    return ALLOWED_FORMATS[fmt]


def save_reference_images(root: Path, task_id: str, images: list[tuple[bytes, str]]) -> list[str]:
    """Store a new task's reference images; a disk that is full or unwritable is ImageWriteFailed (503), and what
    was written of this task's images is removed again."""
    folder = root / task_id
    names = []
    try:
        for position, (raw, ext) in enumerate(images):
            folder.mkdir(parents=True, exist_ok=True)
            name = f"ref{position}.{ext}"
            (folder / name).write_bytes(raw)
            names.append(name)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        raise ImageWriteFailed(f"The reference images could not be stored ({reason}); try again later.") from exc
    return names


def load_reference_images(root: Path, task_id: str, names: list[str]) -> list[bytes]:
    return [(root / task_id / name).read_bytes() for name in names if (root / task_id / name).is_file()]
