"""Providers at run time: the text / image providers and the per-role mapping, kept as numbered versions in the
database, validated before they take effect, with literal API keys encrypted and never shown in clear.

Where the configuration comes from, newest first: the latest saved version; else the providers file
(INKSTREAM_PROVIDERS_FILE, shown as version 0); else the offline generators. Every API node and worker builds its
generators from the same source and checks the version number at most every `check_interval` seconds, so a saved
version or a rollback reaches new pages everywhere without a restart.
"""

from __future__ import annotations

import base64
import copy
import difflib
import hashlib
import json
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from inkstream.admin.paging import PageRequest, iso
from inkstream.admin.versions import VersionStore
from inkstream.auth.audit_sink import Actor, AuditSink, Origin
from inkstream.errors import InvalidInput, NotFound
from inkstream.generators.base import CopyGenerator, GeneratorError, ImageGenerator, OutlineGenerator
from inkstream.generators.factory import Delayed, copy_generator_for
from inkstream.generators.offline import OfflineWriter
from inkstream.generators.remote.providers_config import (
    SECTIONS,
    ProvidersConfigError,
    build_generators,
    parse_providers_config,
)
from inkstream.storage.database import Database
from inkstream.storage.tables import ROLES, User

log = logging.getLogger(__name__)

KIND = "providers"
MASK = "••••"
ENCRYPTED = "enc:"
ROLE_MAPPING = "role_mapping"
Pair = tuple[OutlineGenerator, ImageGenerator]


class KeyBox:
    """Encrypts literal API keys with a key derived from the service secret (Fernet: AES-CBC + HMAC)."""

    def __init__(self, secret: str) -> None:
        digest = hashlib.sha256(b"inkstream provider keys\x00" + secret.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, plain: str) -> str:
        return ENCRYPTED + self._fernet.encrypt(plain.encode()).decode()

    def open(self, stored: str) -> str | None:
        if not stored.startswith(ENCRYPTED):
            return stored
        try:
            return self._fernet.decrypt(stored[len(ENCRYPTED):].encode()).decode()
        except InvalidToken:
            return None  # sealed under another secret key


def _entries(data: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(key path, provider entry) of every provider in a configuration."""
    found = []
    for section in SECTIONS.values():
        providers = (data.get(section) or {}).get("providers") if isinstance(data.get(section), dict) else None
        if isinstance(providers, dict):
            found += [(f"{section}.providers.{name}", e) for name, e in providers.items() if isinstance(e, dict)]
    return found


def _invalid(message: str) -> InvalidInput:
    key = message.split(":", 1)[0].strip()
    return InvalidInput("invalid_providers_config", message, key=key)


def validate(data: Any) -> None:
    """Raise a 422 naming the first bad key; the checks are the providers file's, plus the role mapping."""
    if not isinstance(data, dict):
        raise _invalid("config: must be a JSON object")
    if "prompts_dir" in data:
        raise _invalid("prompts_dir: not settable at run time (it names server files); use the providers file")
    try:
        parse_providers_config({k: v for k, v in data.items() if k != ROLE_MAPPING})
    except ProvidersConfigError as exc:
        raise _invalid(str(exc)) from None
    mapping = data.get(ROLE_MAPPING) or {}
    if not isinstance(mapping, dict):
        raise _invalid(f"{ROLE_MAPPING}: must be a mapping of role to providers")
    for role, choice in mapping.items():
        path = f"{ROLE_MAPPING}.{role}"
        if role not in ROLES:
            raise _invalid(f"{path}: unknown role; use one of {', '.join(ROLES)}")
        choice = {"image": choice} if isinstance(choice, str) else choice
        if not isinstance(choice, dict):
            raise _invalid(f"{path}: must be an image provider name or {{text, image}}")
        for short, name in choice.items():
            if short not in ("text", "image"):
                raise _invalid(f"{path}.{short}: unknown key; use text or image")
            section = SECTIONS[short]  # type: ignore[index]
            providers = (data.get(section) or {}).get("providers") or {}
            if not isinstance(name, str) or name not in providers:
                raise _invalid(f"{path}.{short}: {name!r} is not one of {section}.providers ({sorted(providers)})")


def for_role(data: Mapping[str, Any], role: str) -> dict[str, Any]:
    """The configuration with the role's mapped providers made active."""
    result = copy.deepcopy({k: v for k, v in data.items() if k != ROLE_MAPPING})
    choice = (data.get(ROLE_MAPPING) or {}).get(role)
    choice = {"image": choice} if isinstance(choice, str) else (choice or {})
    for short, name in choice.items():
        result[SECTIONS[short]]["active_provider"] = name
    return result


class ProviderSettings:
    def __init__(self, db: Database, secret: str, providers_file: Path | None, audit: AuditSink) -> None:
        self._versions = VersionStore(db, KIND)
        self._keys = KeyBox(secret)
        self._file = providers_file
        self._audit = audit

    # --- reading ---
    def _file_data(self) -> dict[str, Any]:
        if self._file is None:
            return {}
        try:
            data = yaml.safe_load(self._file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            log.warning("providers file unreadable: %s", exc)
            return {}
        return data if isinstance(data, dict) else {}

    async def current(self) -> tuple[int, dict[str, Any], dict[str, Any]]:
        """(version, stored data with sealed keys, metadata)."""
        row = await self._versions.latest()
        if row is not None:
            return row.version, row.data, {"created_at": iso(row.created_at), "created_by": row.created_by,
                                           "comment": row.comment, "source": "database"}
        source = "file" if self._file is not None else "default"
        return 0, self._file_data(), {"created_at": None, "created_by": "", "comment": "", "source": source}

    async def version_number(self) -> int:
        return await self._versions.latest_number()

    def masked(self, data: Mapping[str, Any]) -> dict[str, Any]:
        shown = copy.deepcopy(dict(data))
        for _, entry in _entries(shown):
            if isinstance(entry.get("api_key"), str):
                plain = self._keys.open(entry["api_key"])
                entry["api_key"] = MASK + (plain[-4:] if plain and len(plain) >= 12 else "")
        return shown

    def unsealed(self, data: Mapping[str, Any]) -> dict[str, Any]:
        opened = copy.deepcopy(dict(data))
        for path, entry in _entries(opened):
            if isinstance(entry.get("api_key"), str):
                plain = self._keys.open(entry["api_key"])
                if plain is None:
                    raise GeneratorError(f"{path}.api_key: sealed with another secret key; save it again",
                                         retryable=False)
                entry["api_key"] = plain
        return opened

    async def view(self) -> dict[str, Any]:
        version, data, meta = await self.current()
        return {"version": version, "config": self.masked(data), **meta}

    # --- changing ---
    def _sealed(self, new: dict[str, Any], old: Mapping[str, Any]) -> dict[str, Any]:
        """Encrypt new literal keys; a masked key left as shown keeps the key stored at the same place."""
        old_keys = {path: e.get("api_key") for path, e in _entries(old)}
        for path, entry in _entries(new):
            key = entry.get("api_key")
            if not isinstance(key, str):
                continue
            if key.startswith(MASK):
                kept = old_keys.get(path)
                if not isinstance(kept, str):
                    raise _invalid(f"{path}.api_key: masked, but no key is stored here; enter the key")
                entry["api_key"] = kept if kept.startswith(ENCRYPTED) else self._keys.seal(kept)
            elif not key.startswith(ENCRYPTED):
                entry["api_key"] = self._keys.seal(key)
        return new

    async def save(self, config: Any, comment: str, actor: Actor, origin: Origin,
                   action: str = "admin.providers.update") -> dict[str, Any]:
        validate(config)
        before_version, before, _ = await self.current()
        sealed = self._sealed(copy.deepcopy(config), before)
        row = await self._versions.save(sealed, actor.name, comment)
        await self._audit.record(action, actor=actor, target_type="providers", target_id=str(row.version),
                                 origin=origin, before={"version": before_version, "config": self.masked(before)},
                                 after={"version": row.version, "config": self.masked(sealed)})
        return await self.view()

    async def rollback(self, version: int, actor: Actor, origin: Origin) -> dict[str, Any]:
        row = await self._versions.get(version)
        if row is None:
            raise NotFound("version_not_found", f"There is no providers version {version}.")
        return await self.save(row.data, f"rollback to version {version}", actor, origin,
                               action="admin.providers.rollback")

    async def history(self, page: PageRequest) -> tuple[list[dict[str, Any]], int]:
        # One more row than the page, so the oldest row of the page has something to diff against.
        rows, total = await self._versions.history(page.offset, page.page_size + 1)
        items = []
        for i, row in enumerate(rows[: page.page_size]):
            previous = rows[i + 1].data if i + 1 < len(rows) else None
            items.append({"version": row.version, "created_at": iso(row.created_at), "created_by": row.created_by,
                          "comment": row.comment, "diff": self._diff(previous, row.data, row.version)})
        return items, total

    def _diff(self, old: Mapping[str, Any] | None, new: Mapping[str, Any], version: int) -> str:
        def lines(d: Mapping[str, Any] | None) -> list[str]:
            if d is None:
                return []
            return json.dumps(self.masked(d), indent=2, sort_keys=True, ensure_ascii=False).splitlines(keepends=True)

        return "".join(difflib.unified_diff(lines(old), lines(new), f"version {version - 1}", f"version {version}"))

    # --- using ---
    async def build(self, version_data: Mapping[str, Any], role: str) -> Pair:
        try:
            config = parse_providers_config(for_role(self.unsealed(version_data), role),
                                            base_dir=self._file.parent if self._file else None)
            return build_generators(config, os.environ)
        except ProvidersConfigError as exc:
            raise GeneratorError(f"Providers configuration: {exc}", retryable=False) from None


class RuntimeGenerators:
    """The runner's GeneratorSource: generators per (providers version, role), rebuilt when the version changes."""

    def __init__(self, db: Database, settings: ProviderSettings, *, offline_delay: float = 0.0,
                 check_interval: float = 2.0) -> None:
        self._db = db
        self._settings = settings
        self._delay = offline_delay
        self._check_interval = check_interval
        self._checked = (-1, 0.0)  # (version, when)
        self._data: Mapping[str, Any] = {}
        self._built: dict[str, Pair] = {}

    def invalidate(self) -> None:
        self._checked = (self._checked[0], 0.0)

    async def _version(self) -> int:
        version, when = self._checked
        if time.monotonic() - when < self._check_interval:
            return version
        latest = await self._settings.version_number()
        if latest != version:
            _, self._data, _ = await self._settings.current()
            self._built = {}
            if version >= 0:
                log.info("providers version %d in effect (was %d)", latest, version)
        self._checked = (latest, time.monotonic())
        return latest

    async def for_user(self, user_id: int) -> Pair:
        await self._version()
        async with self._db.read() as s:
            role = await s.scalar(select(User.role).where(User.id == user_id)) or "user"
        return await self._pair(role)

    async def copy_for(self, user_id: int) -> CopyGenerator:
        outline, _ = await self.for_user(user_id)
        return copy_generator_for(outline)

    async def _pair(self, role: str) -> Pair:
        pair = self._built.get(role)
        if pair is None:
            outline, image = await self._settings.build(self._data, role)
            if self._delay > 0:
                if isinstance(outline, OfflineWriter):  # a demo delay trickles its chunks too: the outline grows
                    outline = OfflineWriter(chunk_pause=self._delay / 20)
                outline, image = Delayed(outline, self._delay), Delayed(image, self._delay)  # type: ignore[assignment]
            pair = self._built[role] = (outline, image)
        return pair
