"""Inkstream: one sentence in, a finished Xiaohongshu image post out, streamed live over SSE."""

__version__ = "0.1.0"
