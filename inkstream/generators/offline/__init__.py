"""The offline writer: topic-aware template outlines and post copy (jieba for reading the topic)."""

from inkstream.generators.offline.writer import LABEL, OfflineWriter, build_copy, build_outline_text

__all__ = ["LABEL", "OfflineWriter", "build_copy", "build_outline_text"]
