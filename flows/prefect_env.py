"""Prefect settings for this project, applied before Prefect is imported.

Prefect reads its settings from the environment when it is first imported, so the CLI calls
``configure(settings)`` before it imports any flow. Every value is a default: a variable the user
already exported (``PREFECT_API_URL`` for a real server, ``PREFECT_HOME``, ...) wins.

- No network: ``DO_NOT_TRACK=1`` and ``PREFECT_SERVER_ANALYTICS_ENABLED=false`` turn off Prefect's
  telemetry (with it on, the ephemeral server's heartbeat also logged ``database is locked``).
- ``PREFECT_HOME=<data root>/prefect``: the run history (SQLite) and the persisted task results that
  the cross-run caches read live beside the data they describe. The user's own
  ``~/.prefect/profiles.toml`` stays in use, so a profile pointing at a server keeps working.
- The ephemeral API (used when no ``PREFECT_API_URL`` is set) takes 17 s to start with a new
  ``PREFECT_HOME`` on a 2-core machine (Prefect's default timeout is 20 s), so the timeout is 120 s.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from warehouse.errors import ArxivTrendsError
from warehouse.settings import Settings
from warehouse.stopping import StopRequested

EPHEMERAL_STARTUP_TIMEOUT_S = 120

OFFLINE_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_ENABLED": "true",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(EPHEMERAL_STARTUP_TIMEOUT_S),
}


def prefect_home(settings: Settings) -> Path:
    """Where Prefect keeps its database and persisted results for this data root."""
    return settings.home / "prefect"


def configure(settings: Settings | None = None) -> dict[str, str]:
    """Set the project's Prefect defaults in ``os.environ``; returns the values in effect.

    Call it before the first ``import prefect`` of the process: later calls cannot change settings
    Prefect has already read.
    """
    defaults = dict(OFFLINE_DEFAULTS)
    if settings is not None:
        defaults["PREFECT_HOME"] = str(prefect_home(settings))
        user_profiles = Path.home() / ".prefect" / "profiles.toml"
        if "PREFECT_HOME" not in os.environ and user_profiles.exists():
            defaults["PREFECT_PROFILES_PATH"] = str(user_profiles)
    for key, value in defaults.items():
        os.environ.setdefault(key, value)
    if settings is not None:  # Prefect creates PREFECT_HOME but not its parents
        Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    return {key: os.environ[key] for key in defaults}


class _OneLineUserErrors(logging.Filter):
    """Prefect logs a failed task or flow run with its traceback. For a user error (damaged tables, a held
    lock, a bad input), a stop or a termination signal the message says everything: the traceback goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, (ArxivTrendsError, StopRequested)) or type(exc).__name__ == "TerminationSignal":
            record.exc_info, record.exc_text = None, None
        return True


def quiet_user_errors() -> None:
    """Install the filter on the loggers Prefect reports task and flow run failures with (once)."""
    for name in ("prefect.task_runs", "prefect.flow_runs"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _OneLineUserErrors) for f in logger.filters):
            logger.addFilter(_OneLineUserErrors())
