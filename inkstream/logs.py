"""Logging setup, with secrets redacted from every line (the uvicorn access log included).

The reference system's clients put the access token in the URL, so request lines can carry it; the filter below
rewrites the formatted message before any handler writes it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_SECRET_PARAMS = re.compile(r"((?:access_token|refresh_token|ticket|sig|token)=)[^&\s\"']+", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9\-_.~+/]+=*", re.IGNORECASE)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+")


def redact(text: str) -> str:
    # Each pattern needs a marker a plain substring test finds far faster than the regex can fail: every access-log
    # line passes through here (stream opens included).
    if "=" in text:
        text = _SECRET_PARAMS.sub(r"\1[REDACTED]", text)
    if "bearer" in text.lower():
        text = _BEARER.sub(r"\1[REDACTED]", text)
    if "eyJ" in text:
        text = _JWT.sub("[REDACTED-JWT]", text)
    return text


class RedactSecrets(logging.Filter):
    """Redacts the message and each string argument (uvicorn's access formatter needs the args as a tuple)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def log_config(level: str = "INFO") -> dict[str, Any]:
    """A dictConfig for uvicorn and the app: every handler passes through RedactSecrets."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactSecrets}},
        "formatters": {
            "default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
            "access": {"()": "uvicorn.logging.AccessFormatter",
                       "fmt": '%(asctime)s %(levelname)s access: %(client_addr)s "%(request_line)s" %(status_code)s',
                       "use_colors": False},
        },
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "default", "filters": ["redact"],
                        "stream": "ext://sys.stderr"},
            "access": {"class": "logging.StreamHandler", "formatter": "access", "filters": ["redact"],
                       "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "inkstream": {"handlers": ["default"], "level": level, "propagate": False},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
