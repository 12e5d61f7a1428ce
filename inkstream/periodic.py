"""A background step repeated every few seconds that outlives its failures (a database blip must not end it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable


async def run_every(interval: float, step: Callable[[], Awaitable[None]], what: str, log: logging.Logger) -> None:
    """Sleep `interval`, run `step`, forever; a failed step is logged (as `what`) and tried again next time."""
    while True:
        await asyncio.sleep(interval)
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the next round tries again
            log.warning("%s failed (%s); retrying", what, type(exc).__name__)
