"""Logs never carry raw control characters: whatever a client sent (a NUL, an escape sequence, a newline that
would forge a second log line) is written escaped (`\\x00`, `\\x1b`, `\\n`), by a filter on the handlers.

`log_config()` is uvicorn's logging configuration with the filter on every handler and the `karmayogi` loggers
routed to uvicorn's default handler (what `karmayogi serve` runs with); `install()` puts the filter on the handlers
already configured in this process (the app factory calls it, for other ways of running the app)."""

from __future__ import annotations

import copy
import logging
import traceback
from typing import Any

from models.text_policy import printable


class EscapeControlCharacters(logging.Filter):
    """Rewrites a record in place: its message and arguments with every control character escaped (newlines
    too), its traceback and stack with every control character escaped but the newlines between frames."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            # uvicorn's access formatter reads the arguments one by one (and the status as a number).
            record.args = tuple(printable(arg) if isinstance(arg, str) else arg for arg in record.args)
        else:
            try:
                message = record.getMessage()
            except Exception:  # arguments that do not fit the message: logging reports that itself
                return True
            record.msg, record.args = printable(message), None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = printable(record.exc_text, keep_newlines=True)
        if record.stack_info:
            record.stack_info = printable(record.stack_info, keep_newlines=True)
        return True


FILTER_NAME = "escape_control_characters"


def log_config() -> dict[str, Any]:
    """uvicorn's LOGGING_CONFIG, every handler filtered, and the project's loggers on the default handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})[FILTER_NAME] = {"()": f"{__name__}.EscapeControlCharacters"}
    for handler in config.get("handlers", {}).values():
        handler.setdefault("filters", []).append(FILTER_NAME)
    config.setdefault("loggers", {})["karmayogi"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def install(*logger_names: str) -> None:
    """Put the filter on the handlers of the root logger, of `logger_names`, and on logging's last resort."""
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logger_names)]
    handlers = [handler for logger in loggers for handler in logger.handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(existing, EscapeControlCharacters) for existing in handler.filters):
            handler.addFilter(EscapeControlCharacters())
