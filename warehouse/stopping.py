"""Stopping at a safe point: a stop request (SIGTERM, a Prefect cancellation) waits for a commit to finish.

Every write builds a new table version aside and makes it current in one short step (a rename and a link
swap, or the manifest PUT). Stopping anywhere else loses only the unfinished work: the staged files are
never visible and are swept by the next writer. So a stop is acted on at once, except inside
``commit_section``: a handler wrapped with ``deferring`` that fires there runs when the section ends.
Signals are delivered to the main thread, so only the main thread's sections count.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

_depth = 0
_pending: list[Callable[[], None]] = []


class StopRequested(BaseException):
    """The process was asked to stop (SIGTERM); raised at a safe point. Like ``KeyboardInterrupt``, it is not
    an ``Exception``: nothing on the way out mistakes it for a failure to handle."""

    def __init__(self, reason: str = "SIGTERM"):
        self.reason = reason
        super().__init__(reason)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def commit_section() -> Iterator[None]:
    """A few lines that must not be interrupted half-way: a deferred stop runs right after them."""
    global _depth
    if not _main_thread():
        yield
        return
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _pending:
            act = _pending[0]
            _pending.clear()
            act()


def in_commit() -> bool:
    return _depth > 0


def deferring(handler: Callable[[int, Any], Any]) -> Callable[[int, Any], Any]:
    """A signal handler that runs ``handler`` at once, or after the commit section it arrived in."""

    def handle(signum: int, frame: Any) -> None:
        if _depth:
            if not _pending:
                _pending.append(lambda: handler(signum, frame))
            return
        handler(signum, frame)

    handle.wrapped = handler  # type: ignore[attr-defined]
    return handle


def raise_stop(signum: int, frame: Any) -> None:
    """The plain handler (outside Prefect): raise ``StopRequested`` once; later signals wait for it to finish."""
    import signal

    signal.signal(signum, signal.SIG_IGN)  # the stop is under way: a second SIGTERM must not cut the unwinding
    raise StopRequested(signal.Signals(signum).name)
