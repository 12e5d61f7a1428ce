"""The SDK end to end: outline → generate → follow → download, history, cancel, idempotent create; sync too."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from inkstream.client import AsyncInkstream, Complete, Finish, Inkstream, Page, PostCopy, ValidationError
from tests.client.conftest import PASSWORD, fast_policy
from tests.support.client import pages
from tests.support.server import LiveServer

PNG = b"\x89PNG\r\n\x1a\n"


async def test_outline_generate_follow_and_download(ink: AsyncInkstream, tmp_path: Path) -> None:
    outline = await ink.outline("周末露营装备清单")
    assert outline.status == "done" and len(outline.pages) >= 3
    assert outline.pages[0].type == "cover" and "<page>" in outline.raw
    chosen = outline.pages[:3]
    task = await ink.generate(chosen, full_outline=outline.raw, topic="周末露营装备清单")
    events = [event async for event in ink.stream(task.task_id)]
    finish = events[-1]
    assert isinstance(finish, Finish) and finish.success and finish.total == 3
    assert sorted(e.index for e in events if isinstance(e, Complete)) == [0, 1, 2]
    saved = await ink.download(task.task_id, tmp_path / "out")
    assert [p.name for p in saved] == ["page_01.png", "page_02.png", "page_03.png"]
    assert all(p.read_bytes().startswith(PNG) for p in saved)
    assert not list((tmp_path / "out").glob(".*part"))  # no half-written files left behind
    status = await ink.status(task.task_id)
    assert (status.status, status.completed, status.finished) == ("done", 3, True)
    history = await ink.history()
    assert {item.task_id for item in history.items} >= {task.task_id, outline.task_id}
    await ink.delete(task.task_id)
    assert task.task_id not in {item.task_id for item in (await ink.history()).items}


async def test_cancel_ends_the_stream_with_a_cancelled_finish(ink: AsyncInkstream) -> None:
    task = await ink.generate(pages(10), topic="cancel me")
    async with ink.stream(task.task_id) as stream:
        async for event in stream:
            if event.id == 1:
                assert await ink.cancel(task.task_id) == "cancelled"
            if isinstance(event, Finish):
                assert event.cancelled and not event.success


async def test_create_is_idempotent_so_a_resend_after_a_cut_is_safe(ink: AsyncInkstream) -> None:
    key = uuid.uuid4().hex
    first = await ink.generate(pages(1), topic="once", idempotency_key=key)
    second = await ink.generate(pages(1), topic="once", idempotency_key=key)  # as a resend after a lost answer
    assert first.task_id == second.task_id
    await ink.wait(first.task_id)


def test_sync_client_does_the_same(live: LiveServer, tmp_path: Path) -> None:
    with Inkstream(live.url, reconnect=fast_policy()) as ink:
        username = f"sync_{uuid.uuid4().hex[:8]}"
        ink.register(username, PASSWORD)
        ink.login(username, PASSWORD)
        assert ink.me().username == username
        task = ink.generate([Page(0, "cover", "[封面]\n标题：同步")], topic="同步")
        with ink.stream(task.task_id) as stream:
            names = [event.name for event in stream]
        # The copy is written beside the page: its deltas and `copy` interleave with the page's events.
        assert [n for n in names if n not in ("text_delta", "copy")] == ["queued", "progress", "complete", "finish"]
        assert "text_delta" in names and names.index("copy") < names.index("finish")
        assert stream.last_event_id == len(names)
        assert [p.name for p in ink.download(task.task_id, tmp_path)] == ["page_01.png"]
        copy = ink.copy(task.task_id)
        assert copy is not None and len(copy.titles) == 3 and 200 <= len(copy.body) <= 800
        edited = ink.update_copy(task.task_id, PostCopy(["同步的标题", "二", "三"], copy.body, copy.tags))
        assert edited.titles[0] == "同步的标题" and ink.status(task.task_id).copy == edited
        with pytest.raises(ValidationError) as err:
            ink.update_copy(task.task_id, {**edited.to_json(), "body": "短"})
        assert err.value.code == "copy_body_length"
        ink.regenerate_copy(task.task_id)
        assert isinstance(ink.wait(task.task_id, stream.last_event_id), Finish)
        assert ink.copy(task.task_id) == copy  # the offline writer is deterministic: the same words again
        assert ink.rename(task.task_id, "我的同步帖") == "我的同步帖"
        found = ink.history(q="同步帖")
        assert [i.task_id for i in found.items] == [task.task_id] and found.items[0].title == "我的同步帖"
        assert found.stats["posts"] == 1 and ink.history(status="failed").items == []
        ink.logout()
        assert ink.tokens is None
