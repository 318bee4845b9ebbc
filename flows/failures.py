"""Every failure a user can reach, as one line (no traceback ever reaches a user): used by the CLI's error
boundary and by the flows' tasks (so that Prefect logs a one-line error, not a traceback).

- A known user error (``ArxivTrendsError``) is its own message; damage a command ran into is remembered for
  ``status``.
- A full disk, a read-only data root or a denied write is said as such, whichever library raised it
  (Python gives an ``errno``, polars an "(os error N)" in its message).
- Anything else is first checked against the tables' checksums: a decoder's error on a damaged file becomes
  the damage, named, with the way out (``verify``, ``repair``).
- What is left is a bug: one line saying so, with the traceback kept in ``<home>/state/errors.log``.
"""

from __future__ import annotations

import errno
import os
import re
import traceback
from datetime import datetime, timezone

from warehouse.errors import ArxivTrendsError, TableDamaged
from warehouse.settings import Settings

_OS_ERROR = re.compile(r"\(os error (\d+)\)")
NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}
UNCHANGED = ("no table was left half-written: each is as it was before, or whole in its new version if this "
             "command had finished writing it")
ERRORS_LOG = "errors.log"


def os_errno(exc: BaseException) -> int | None:
    """The ``errno`` behind an error from Python (``OSError.errno``) or from polars/pyarrow (in the message)."""
    if isinstance(exc, OSError) and exc.errno:
        return exc.errno
    found = _OS_ERROR.search(str(exc))
    return int(found.group(1)) if found else None


def _where(exc: BaseException, settings: Settings | None) -> str:
    name = getattr(exc, "filename", None)
    if name:
        return str(name)
    return f"the data root {settings.location}" if settings is not None else "the data root"


def known_failure(exc: Exception, settings: Settings | None, command: str | None) -> ArxivTrendsError | None:
    """``exc`` as a one-line ``ArxivTrendsError`` when it is not a bug: a user error, a full disk, a data root
    that cannot be written, or damaged tables (checked against their checksums); None for anything else."""
    if isinstance(exc, ArxivTrendsError):
        if isinstance(exc, TableDamaged) and settings is not None:
            from warehouse.integrity import note_damage

            note_damage(settings, exc.damage, command or "a command")
        return exc
    code = os_errno(exc)
    if code in NO_SPACE:
        return ArxivTrendsError(f"{os.strerror(code).lower()} while writing {_where(exc, settings)}; {UNCHANGED}. "
                                "Free some space and run the command again")
    if code in NOT_WRITABLE:
        why = "read-only file system" if code == errno.EROFS else "permission denied"
        return ArxivTrendsError(f"cannot write {_where(exc, settings)} ({why}); {UNCHANGED}. Run it where the data "
                                "root is writable (see --home)")
    return _damage(settings, command)


def explain(exc: Exception, settings: Settings | None, command: str | None) -> str:
    """The one line to print for ``exc`` raised by ``command`` (without the ``error:`` prefix)."""
    known = known_failure(exc, settings, command)
    return str(known) if known is not None else _unexpected(exc, settings, command)


def _damage(settings: Settings | None, command: str | None) -> TableDamaged | None:
    if settings is None:
        return None
    try:
        from warehouse.api import Warehouse

        return Warehouse(settings).diagnose(found_by=command or "a command")
    except Exception:  # the check itself cannot run (no warehouse, unreachable store): not the story to tell
        return None


def _unexpected(exc: Exception, settings: Settings | None, command: str | None) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    kept = "no traceback was kept"
    if settings is not None:
        log = settings.state_dir / ERRORS_LOG
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as fh:
                fh.write(f"--- {datetime.now(timezone.utc).isoformat(timespec='seconds')} "
                         f"arxiv-trends {command or ''}\n")
                fh.write("".join(traceback.format_exception(exc)))
            kept = f"the traceback is in {log}"
        except OSError:
            pass
    return (f"unexpected failure in {command or 'arxiv-trends'} ({type(exc).__name__}: {first}); {UNCHANGED}. "
            f"This is a bug: {kept}; please report it")
