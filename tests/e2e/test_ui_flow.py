"""A creator's whole path through the UI: sign up, topic + reference image, edit the outline, watch the images
arrive, download one and all (zip), regenerate a page, find it in history, delete it, switch language, reload."""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from tests.e2e.browser import App
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e


def test_creator_flow_from_topic_to_zip_and_history(
    browser: Browser, live: LiveServer, http: httpx.Client, tmp_path: Path
) -> None:
    app = App(browser, live)
    page = app.goto("#/")
    page.wait_for_url(re.compile(r"#/login$"))
    page.click("[data-test=tab-register]")
    username = f"maker_{uuid.uuid4().hex[:6]}"
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-test=topic]")
    expect(page.locator("[data-test=template-note]")).to_contain_text("不是 AI")

    ref = tmp_path / "ref.png"
    Image.new("RGB", (60, 80), (250, 200, 190)).save(ref)
    page.set_input_files("[data-test=ref-input]", str(ref))
    expect(page.locator("figure.thumb img")).to_have_count(1)
    page.fill("[data-test=topic]", "周末露营装备清单")
    page.click("[data-test=create-outline]")
    page.wait_for_selector("[data-test=outline-list] li")
    rows = page.locator("[data-test=outline-list] li")
    n = rows.count()
    assert n >= 6
    # Edit page 1, delete page 2, move the new page 2 down, add a page before the summary.
    rows.nth(0).locator("textarea").fill("[封面]\n标题：露营装备一篇讲清⛺")
    rows.nth(1).get_by_role("button", name="删除").click()
    expect(rows).to_have_count(n - 1)
    moved = rows.nth(1).locator("textarea").input_value()
    rows.nth(1).get_by_role("button", name="下移").click()
    assert rows.nth(2).locator("textarea").input_value() == moved
    page.click("[data-test=add-page]")
    expect(rows).to_have_count(n)
    rows.nth(n - 2).locator("textarea").fill("新加的一页：帐篷怎么选")
    with page.expect_request(re.compile(r"/api/generate$")) as sent:
        page.click("[data-test=generate]")
    body = json.loads(sent.value.post_data or "{}")
    assert [p["index"] for p in body["pages"]] == list(range(n))
    assert body["pages"][0]["content"].endswith("露营装备一篇讲清⛺")
    assert body["pages"][2]["content"] == moved.strip()
    assert body["pages"][n - 2] == {"index": n - 2, "type": "content", "content": "新加的一页：帐篷怎么选"}
    assert body["user_topic"] == "周末露营装备清单" and len(body["user_images"]) == 1

    page.wait_for_url(re.compile(r"#/task/[0-9a-f]{32}$"))
    task_id = page.url.rsplit("/", 1)[1]
    app.wait_finished()
    expect(page.locator("figure.page-card[data-status=done]")).to_have_count(n)

    with page.expect_download() as one:
        page.locator("figure.page-card").first.locator("[data-test=download]").click()
    assert one.value.suggested_filename == "01-cover.png"
    assert Path(one.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as everything:
        page.click("[data-test=download-all]")
    archive = zipfile.ZipFile(io.BytesIO(Path(everything.value.path()).read_bytes()))
    assert archive.testzip() is None  # every CRC-32 checks out
    pngs = [name for name in archive.namelist() if name.endswith(".png")]
    assert len(pngs) == n and pngs[0] == "01-cover.png"
    assert "post.txt" in archive.namelist()  # the post's copy beside the images
    assert archive.read("post.txt").decode("utf-8").strip()
    Image.open(io.BytesIO(archive.read(pngs[-1]))).verify()

    last = app.manager()["lastEventId"]
    page.locator("figure.page-card").nth(2).locator("[data-test=regenerate]").click()
    page.wait_for_function(
        "() => window.__inkstream.task.completeCounts[2] === 2 && window.__inkstream.sse.state === 'done'"
    )
    app.wait_finished()
    # The new round's stream started right after the old `finish`: the retry event, progress, complete, finish.
    assert app.manager()["receivedIds"] == [last + 1, last + 2, last + 3, last + 4]
    counts = page.evaluate("window.__inkstream.task.completeCounts")
    assert counts == {str(i): 2 if i == 2 else 1 for i in range(n)}
    expect(page.locator("figure.page-card[data-status=done]")).to_have_count(n)

    page.click("nav a[href='#/history']")
    items = page.locator("article.history-item")
    expect(items).to_have_count(2)  # the outline and the post
    page.reload()  # the session survives a reload
    expect(items).to_have_count(2)
    page.on("dialog", lambda d: d.accept())
    page.locator(f"article[data-task='{task_id}'] [data-test=delete]").click()
    expect(items).to_have_count(1)
    token = app.access_token()
    assert http.get(f"/api/generate/{task_id}", headers={"Authorization": f"Bearer {token}"}).status_code in (401, 404)

    page.click("[data-test=lang]")
    expect(page.locator("h1")).to_have_text("My posts")
    expect(page.locator("nav a[href='#/']")).to_have_text("Create")
    page.reload()
    expect(page.locator("h1")).to_have_text("My posts")
    assert not app.seen.errors
    app.close()
