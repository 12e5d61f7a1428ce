"""The outline as editable text: parsed, formatted and trimmed the way the service writes it."""

from __future__ import annotations

from inkstream.client.models import Page
from inkstream.client.outline_text import format_pages, parse, trim

TEXT = "[封面]\n标题：A\n<page>\n[内容]\n第一步\n<PAGE>\n第二步（没有标签）\n  < page >  \n【总结】\n记住"


def test_parse_reads_tags_and_tolerates_sloppy_separators() -> None:
    pages = parse(TEXT)
    assert [(p.index, p.type) for p in pages] == [(0, "cover"), (1, "content"), (2, "content"), (3, "summary")]
    assert pages[0].content == "[封面]\n标题：A"
    assert parse("\n<page>\n") == []


def test_format_is_the_inverse_of_parse_and_tags_untagged_pages() -> None:
    pages = parse(TEXT)
    assert parse(format_pages(pages))[:2] == pages[:2]
    assert format_pages([Page(0, "summary", "记住")]) == "[总结]\n记住"


def test_trim_keeps_the_first_pages_and_the_summary() -> None:
    pages = parse(TEXT)
    assert [p.type for p in trim(pages, 3)] == ["cover", "content", "summary"]
    assert [p.index for p in trim(pages, 3)] == [0, 1, 2]
    assert [p.type for p in trim(pages, 1)] == ["cover"]
    assert trim(pages, 10) == pages
