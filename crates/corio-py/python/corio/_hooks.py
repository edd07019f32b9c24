"""Python helpers the Rust core calls: asyncio's formatting, across 3.11-3.13."""

import sys

from asyncio import base_events, format_helpers
from asyncio.log import logger

_DEBUG_FORMAT = sys.version_info >= (3, 13)


def format_callback_source(callback, args, loop):
    """``format_helpers._format_callback_source`` (3.13 adds ``debug``)."""
    if _DEBUG_FORMAT:
        return format_helpers._format_callback_source(
            callback, args, debug=loop.get_debug())
    return format_helpers._format_callback_source(callback, args)


def extract_stack(frame):
    """The creation traceback of a handle in debug mode."""
    return format_helpers.extract_stack(frame)


def warn_slow_callback(handle, seconds):
    """asyncio's slow-callback warning: names the task (and so its
    coroutine and file:line) when the handle is a task step."""
    logger.warning('Executing %s took %.3f seconds',
                   base_events._format_handle(handle), seconds)
