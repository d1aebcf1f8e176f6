"""The lifetime of check-worker processes: they end with the grader that started them.

A worker must never outlive its grader, however the grader dies (an out-of-memory kill or a
pre-emption is SIGKILL, which no handler sees). Each worker therefore:

- asks Linux for ``PR_SET_PDEATHSIG`` (SIGKILL when its parent goes), where prctl exists;
- runs a watcher thread (portable fallback, and the only guard under other start methods or
  systems): it waits on the parent's sentinel and polls the parent pid, and ends the process
  with ``os._exit`` when either says the parent is gone;
- ignores SIGINT and SIGTERM: Ctrl-C in a terminal and a scheduler's SIGTERM reach the whole
  process group, and it is the grader that decides how its workers stop (:func:`stop_workers`),
  after it has marked the run interrupted.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from multiprocessing.connection import wait
from typing import Iterable

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
POLL_SECONDS = 0.5  # how often the watcher looks at the parent pid
ORPHAN_EXIT = 70  # exit status of a worker that found its grader gone


def _set_pdeathsig() -> bool:
    """SIGKILL this process when its parent dies (Linux only); False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _parent_alive(grader_pid: int, first_ppid: int) -> bool:
    if os.getppid() != first_ppid:  # re-parented: the process that started us is gone
        return False
    try:
        os.kill(grader_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else (pid reused): treat as alive
        return True
    return True


def _watch(grader_pid: int, first_ppid: int) -> None:
    parent = multiprocessing.parent_process()
    sentinel = parent.sentinel if parent is not None else None
    while True:
        if sentinel is not None:
            if wait([sentinel], timeout=POLL_SECONDS):
                os._exit(ORPHAN_EXIT)
        else:
            threading.Event().wait(POLL_SECONDS)
        if not _parent_alive(grader_pid, first_ppid):
            os._exit(ORPHAN_EXIT)


def guard_worker(grader_pid: int) -> None:
    """Call first thing in a worker process (a pool initializer): the worker exits when the
    grader ``grader_pid`` dies, and leaves SIGINT/SIGTERM to the grader."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    first_ppid = os.getppid()
    _set_pdeathsig()
    # the parent may have died before prctl took effect: then no signal will come
    if not _parent_alive(grader_pid, first_ppid):
        os._exit(ORPHAN_EXIT)
    threading.Thread(target=_watch, args=(grader_pid, first_ppid), name="grader-watch", daemon=True).start()


def new_children(before: Iterable[multiprocessing.process.BaseProcess]) -> list[multiprocessing.process.BaseProcess]:
    """multiprocessing children of this process started since ``before`` was taken."""
    known = {p.pid for p in before}
    return [p for p in multiprocessing.active_children() if p.pid not in known]


def stop_workers(processes: Iterable[multiprocessing.process.BaseProcess], grace: float = 5.0) -> None:
    """Wait up to ``grace`` seconds for workers to finish the chunk they hold (the pool was
    shut down, so they exit after it), then kill those still running (they ignore SIGTERM)
    and reap them. Killing a worker while it sends its result can leave half a message that
    blocks the pool's manager thread forever: the grace period makes that a worker stuck in
    one chunk, not one in the middle of a send."""
    procs = list(processes)
    deadline = time.monotonic() + grace
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join()
