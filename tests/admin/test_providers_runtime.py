"""Providers at run time: validated versions with masked keys, diff, rollback, per-role mapping, test connection —
and a saved version reaching the next page on the worker without a restart (both modes)."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.generators.fake_apis import FakeAPI, Reply, image_bytes, images_b64_reply
from tests.support.client import Account, login, start_generation, wait_status

SECRET = "sk-secret-abcdef123456"
SWITCH_DEADLINE = 10.0  # a node checks the version every 2 s (default); a page starting after that uses it


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAPI]:
    api = FakeAPI()
    api.start()
    api.script("/images/generations", images_b64_reply(image_bytes(size=(6, 8))))
    api.script("/models", Reply(json={"data": [{"id": "m"}]}))
    yield api
    api.stop()


def config(fake: FakeAPI, active: str = "offline", key: str = SECRET) -> dict[str, Any]:
    return {
        "image_generation": {"active_provider": active, "providers": {
            "offline": {"type": "offline"},
            "fake": {"type": "openai_compatible", "base_url": fake.url, "model": "m", "api_key": key,
                     "max_attempts": 1},
        }},
        "role_mapping": {"pro": {"image": "fake"}},
    }


def page_size(http: httpx.Client, account: Account) -> tuple[int, int]:
    task_id = start_generation(http, account, 1)
    body = wait_status(http, account, task_id, "done", "failed")
    assert body["status"] == "done", body
    return Image.open(io.BytesIO(http.get(body["images"][0]["image_url"]).content)).size


FAKE_SIZE, OFFLINE_SIZE = (6, 8), (1080, 1440)


def wait_for_size(http: httpx.Client, account: Account, size: tuple[int, int]) -> float:
    started = time.monotonic()
    while page_size(http, account) != size:
        assert time.monotonic() - started < SWITCH_DEADLINE, f"pages not {size} after {SWITCH_DEADLINE}s"
    return time.monotonic() - started


def test_versions_masking_roles_rollback_and_test_connection(
    http: httpx.Client, admin: Account, user: Account, fake: FakeAPI
) -> None:
    start = http.get("/api/admin/config/image-providers", headers=admin.headers).json()
    assert start["source"] == "default" and start["version"] == 0

    bad = config(fake)
    del bad["image_generation"]["providers"]["fake"]["model"]
    r = http.put("/api/admin/config/image-providers", headers=admin.headers, json={"config": bad})
    assert r.status_code == 422 and r.json()["code"] == "invalid_providers_config"
    assert r.json()["key"] == "image_generation.providers.fake.model"
    wrong_role = {**config(fake), "role_mapping": {"pro": {"image": "nope"}}}
    r = http.put("/api/admin/config/image-providers", headers=admin.headers, json={"config": wrong_role})
    assert r.status_code == 422 and r.json()["key"] == "role_mapping.pro.image"

    saved = http.put("/api/admin/config/image-providers", headers=admin.headers,
                     json={"config": config(fake), "comment": "pro users get the fake model"})
    assert saved.status_code == 200, saved.text
    v1 = saved.json()
    assert v1["version"] == 1 and v1["source"] == "database" and v1["created_by"] == admin.username
    shown_key = v1["config"]["image_generation"]["providers"]["fake"]["api_key"]
    assert shown_key == "••••3456" and SECRET not in saved.text

    # Per role: a pro user's pages come from the fake provider, with the real key; a user's stay offline.
    pro = Account(f"pro_{uuid.uuid4().hex[:8]}", "long enough 1")
    assert http.post("/api/admin/users", headers=admin.headers,
                     json={"username": pro.username, "password": pro.password, "role": "pro"}).status_code == 201
    login(http, pro)
    assert page_size(http, pro) == FAKE_SIZE
    assert fake.requests_to("/images/generations")[-1].headers["authorization"] == f"Bearer {SECRET}"
    assert page_size(http, user) == OFFLINE_SIZE

    # Version 2 makes the fake provider everyone's; the masked key, sent back as shown, keeps the stored key.
    v2 = http.put("/api/admin/config/image-providers", headers=admin.headers,
                  json={"config": config(fake, active="fake", key=shown_key)}).json()
    assert v2["version"] == 2
    wait_for_size(http, user, FAKE_SIZE)
    assert fake.requests_to("/images/generations")[-1].headers["authorization"] == f"Bearer {SECRET}"

    history = http.get("/api/admin/config/image-providers/history", headers=admin.headers).json()
    assert [h["version"] for h in history["items"]] == [2, 1]
    assert '-    "active_provider": "offline"' in history["items"][0]["diff"]
    assert '+    "active_provider": "fake"' in history["items"][0]["diff"]
    assert SECRET not in str(history)

    # Rolling back to version 1: the next pages are offline again, no restart.
    back = http.post("/api/admin/config/image-providers/rollback/1", headers=admin.headers).json()
    assert back["version"] == 3 and back["comment"] == "rollback to version 1"
    took = wait_for_size(http, user, OFFLINE_SIZE)
    print(f"rollback reached the worker's next page in {took:.1f}s")
    missing = http.post("/api/admin/config/image-providers/rollback/99", headers=admin.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "version_not_found"

    fake.script("/models", Reply(json={"data": [{"id": "m"}]}))  # the fake is shared by both modes' runs
    ok = http.post("/api/admin/config/image-providers/test", headers=admin.headers,
                   json={"section": "image", "provider": "fake"}).json()
    assert ok["ok"] is True and ok["latency_ms"] >= 0
    assert fake.requests_to("/models")[-1].headers["authorization"] == f"Bearer {SECRET}"
    fake.script("/models", Reply(401, json={"error": {"message": "bad key"}}))
    rejected = http.post("/api/admin/config/image-providers/test", headers=admin.headers,
                         json={"section": "image", "provider": "fake"}).json()
    assert rejected["ok"] is False and "rejected" in rejected["message"]
    unknown = http.post("/api/admin/config/image-providers/test", headers=admin.headers,
                        json={"section": "image", "provider": "ghost"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "provider_not_found"
    assert http.post("/api/admin/config/image-providers/test", headers=admin.headers,
                     json={"section": "video", "provider": "x"}).status_code == 422


def test_a_masked_key_with_nothing_stored_is_refused(http: httpx.Client, admin: Account, fake: FakeAPI) -> None:
    cfg = config(fake)
    cfg["image_generation"]["providers"]["other"] = {"type": "openai_compatible", "model": "m", "api_key": "••••"}
    r = http.put("/api/admin/config/image-providers", headers=admin.headers, json={"config": cfg})
    assert r.status_code == 422 and r.json()["key"] == "image_generation.providers.other.api_key"
    for body in ({"config": []}, {"config": {"prompts_dir": "/etc"}}, {"config": {"role_mapping": {"god": "x"}}}):
        r = http.put("/api/admin/config/image-providers", headers=admin.headers, json=body)
        assert r.status_code == 422, r.text
