"""Measures the creator-side costs of issue 13: the offline writer (jieba's first load, outline + copy per topic),
the WebP previews (bytes and encode time beside the PNG) and how many delta events the coalescer writes.

    .venv/bin/python -m bench.creator            # writes bench/results/creator.json and prints a summary
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import time
from pathlib import Path

TOPICS = [
    "低预算婚礼怎么办", "孕晚期睡不好怎么缓解", "第一次去日本自由行", "金毛幼犬怎么训练定点上厕所", "程序员转产品经理",
    "大学生如何利用暑假", "冬天手脚冰凉吃什么", "二手相机怎么挑", "北漂租房避坑", "基金定投要不要止盈",
    "秋天的第一杯奶茶", "降噪耳机怎么选", "油皮夏天护肤步骤", "考研英语怎么复习", "通勤穿搭一周不重样",
    "新手健身房第一周练什么", "给宝宝添加辅食的顺序", "月薪五千如何存钱", "面试自我介绍怎么说", "小户型客厅怎么收纳",
]
RESULTS = Path(__file__).parent / "results" / "creator.json"


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def writer() -> dict:
    started = time.perf_counter()
    from inkstream.generators.offline import build_copy, build_outline_text

    build_outline_text("第一次")  # loads jieba's dictionary (cached in the temp dir after the first run ever)
    first = time.perf_counter() - started
    outline_times, copy_times = [], []
    for topic in TOPICS:
        t = time.perf_counter()
        build_outline_text(topic)
        outline_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        build_copy(topic)
        copy_times.append(time.perf_counter() - t)
    return {"first_use_ms": ms(first), "outline_ms_median": ms(statistics.median(outline_times)),
            "outline_ms_max": ms(max(outline_times)), "copy_ms_median": ms(statistics.median(copy_times)),
            "copy_ms_max": ms(max(copy_times)), "topics": len(TOPICS)}


def previews() -> dict:
    from inkstream.generators.base import PageRequest
    from inkstream.generators.cards.card_renderer import CardRenderer
    from inkstream.generators.offline import build_outline_text
    from inkstream.generators.outline_format import parse_outline
    from inkstream.storage.images import make_preview

    renderer = CardRenderer()
    png_sizes, webp_sizes, encode_times = [], [], []
    for topic in TOPICS[:5]:
        raw = build_outline_text(topic)
        pages = parse_outline(raw)
        for page in pages:
            png = renderer.render_png(PageRequest(page=page, total_pages=len(pages), topic=topic, full_outline=raw,
                                                  style_seed=topic))
            t = time.perf_counter()
            webp = make_preview(png)
            encode_times.append(time.perf_counter() - t)
            png_sizes.append(len(png))
            webp_sizes.append(len(webp))
    ratios = [w / p for w, p in zip(webp_sizes, png_sizes, strict=True)]
    return {"pages": len(png_sizes), "png_kb_median": round(statistics.median(png_sizes) / 1024, 1),
            "webp_kb_median": round(statistics.median(webp_sizes) / 1024, 1),
            "webp_to_png_ratio_median": round(statistics.median(ratios), 3),
            "webp_to_png_ratio_max": round(max(ratios), 3),
            "encode_ms_median": ms(statistics.median(encode_times)), "encode_ms_max": ms(max(encode_times))}


async def deltas() -> dict:
    """Delta events written for one offline outline streamed at demo speed (chunks 50 ms apart) and at full speed,
    on a real SQLite event log."""
    import tempfile
    import uuid

    from inkstream.events.sql_log import SqlEventLog
    from inkstream.generators.offline import OfflineWriter
    from inkstream.storage.database import Database
    from inkstream.storage.db import utcnow
    from inkstream.storage.tables import Task, User
    from inkstream.tasks.deltas import DeltaWriter

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/b.db")
        await db.migrate()
        log = SqlEventLog(db, single_writer=True)
        for label, pause in (("full_speed", 0.0), ("chunks_50ms_apart", 0.05)):
            task_id = uuid.uuid4().hex
            async with db.write() as s:
                user = User(username=task_id[:10], password_hash="x", is_admin=False, created_at=utcnow())
                s.add(user)
                await s.flush()
                s.add(Task(id=task_id, user_id=user.id, kind="outline", status="running", topic="t", full_outline="",
                           reference_images=[], total=0, round=1, last_event_id=0, created_at=utcnow(),
                           updated_at=utcnow()))
            sink = DeltaWriter(log, task_id, "outline_delta")
            started = time.perf_counter()
            outline = await OfflineWriter(chunk_pause=pause).generate_outline("降噪耳机怎么选", [], sink)
            await sink.close()
            elapsed = time.perf_counter() - started
            events = await log.read_after(task_id, 0)
            chunks = -(-len(outline.raw) // 24)
            out[label] = {"chars": len(outline.raw), "chunks": chunks, "delta_events": len(events),
                          "seconds": round(elapsed, 2), "max_events_per_s": round(len(events) / max(elapsed, 1e-9), 1)}
        await db.close()
    return out


def main() -> None:
    result = {
        "command": ".venv/bin/python -m bench.creator",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "loadavg": os.getloadavg()},
        "offline_writer": writer(), "previews": previews(), "deltas": asyncio.run(deltas()),
    }
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
