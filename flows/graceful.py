"""Graceful stop of a flow run: SIGTERM and a Prefect cancellation end it at the next safe point.

Inside a flow run Prefect turns SIGTERM into ``TerminationSignal`` (that is also how a runner or a worker
cancels a run: it signals the run's process). ``stoppable`` wraps a flow's body so that

- the SIGTERM handler in force (Prefect's; outside Prefect, one raising ``StopRequested``) waits for a commit
  that is under way to finish (``warehouse.stopping``) and acts once: a second signal cannot cut the
  unwinding short;
- a watcher thread reads the run's state every ``CANCEL_POLL_S`` seconds and, when it is CANCELLING (a
  cancellation from the UI or ``prefect flow-run cancel`` of a run no runner supervises, such as one
  started by ``arxiv-trends run``), signals this process the same way;
- the stop unwinds through the body: the writer lock is released, the unfinished table version is dropped
  (never visible), a harvest keeps its checkpoint; the run ends ``Cancelled``, saying so.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from prefect.exceptions import TerminationSignal
from prefect.states import Cancelled

from warehouse.stopping import StopRequested, deferring, raise_stop

CANCEL_POLL_S = 2.0
STOPPED = ("stopped at a safe point ({why}): the unfinished step was dropped and the writer lock released; every "
           "table is whole (its previous version, or its new one if that step had finished); run again to go on "
           "(a harvest resumes from its checkpoint)")


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _once(handler: Callable[[int, Any], Any]) -> Callable[[int, Any], Any]:
    fired: list[int] = []

    def handle(signum: int, frame: Any) -> None:
        if not fired:
            fired.append(signum)
            handler(signum, frame)

    return handle


@contextmanager
def _sigterm_after_commits() -> Iterator[None]:
    if not _main_thread():
        yield
        return
    current = signal.getsignal(signal.SIGTERM)
    inner = getattr(current, "wrapped", current)  # the CLI's handler is already deferring: wrap what it wraps
    signal.signal(signal.SIGTERM, deferring(_once(inner if callable(inner) else raise_stop)))
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, current)


def _watch(flow_run_id: Any, done: threading.Event) -> None:
    """Poll the run's state; on CANCELLING, SIGTERM this process (the body then stops at a safe point)."""
    from prefect.client.orchestration import get_client

    try:
        with get_client(sync_client=True) as client:
            while not done.wait(CANCEL_POLL_S):
                try:
                    state = client.read_flow_run(flow_run_id).state
                except Exception:  # the API is busy or restarting: look again at the next poll
                    continue
                if state is not None and state.is_cancelling() and not done.is_set():
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
    except Exception:  # no API to ask: a cancellation can still arrive as SIGTERM
        return


@contextmanager
def _cancellation_watch() -> Iterator[None]:
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    if context is None or context.flow_run is None or not _main_thread():
        yield
        return
    done = threading.Event()
    threading.Thread(target=_watch, args=(context.flow_run.id, done), name="cancellation-watch", daemon=True).start()
    try:
        yield
    finally:
        done.set()


def stoppable(body: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a flow function (under ``@flow``) so that SIGTERM or a cancellation ends it Cancelled, cleanly."""

    @functools.wraps(body)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _sigterm_after_commits(), _cancellation_watch():
            try:
                return body(*args, **kwargs)
            except (TerminationSignal, StopRequested) as exc:
                why = exc.reason if isinstance(exc, StopRequested) else "SIGTERM or a Prefect cancellation"
                return Cancelled(message=STOPPED.format(why=why))

    return run
