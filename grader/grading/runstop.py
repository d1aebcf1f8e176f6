"""Running a coroutine so that SIGINT (Ctrl-C) and SIGTERM stop it cleanly.

The signal cancels the coroutine's task: its ``except``/``finally`` blocks run (the engine
stops its check workers, flushes and marks run.json interrupted), and then
:class:`~grader.errors.RunInterrupted` is raised with the signal number. Handlers are
installed only for the duration of the call and only in the main thread (signals are
delivered there); elsewhere the coroutine simply runs.
"""
from __future__ import annotations

import asyncio
import signal
import threading
from typing import Any, Coroutine, TypeVar

from ..errors import RunInterrupted

T = TypeVar("T")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def _stoppable(coro: Coroutine[Any, Any, T]) -> T:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []

    def on_signal(signum: int) -> None:
        if not received:  # a second signal while stopping changes nothing
            received.append(signum)
            task.cancel()

    installed = []
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            try:
                loop.add_signal_handler(sig, on_signal, int(sig))
            except (NotImplementedError, RuntimeError):  # not supported by this loop/platform
                continue
            installed.append(sig)
    try:
        return await coro
    except asyncio.CancelledError:
        if received:
            raise RunInterrupted(received[0]) from None
        raise
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def run_stoppable(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, where SIGINT and SIGTERM raise RunInterrupted after the
    coroutine has handled its cancellation."""
    return asyncio.run(_stoppable(coro))
