"""The scheduled deployments, served by ``arxiv-trends serve`` and mirrored by ``prefect.yaml``.

arXiv announces new papers Sunday to Thursday at 20:00 US Eastern (00:00/01:00 UTC), so the daily run
starts at 02:00 UTC Monday to Friday, after the announcement. It harvests, classifies and aggregates;
the full report is rebuilt once a week, on Sunday. Scheduled runs wait up to 30 minutes for a run that
is still writing the warehouse instead of failing at once. ``tests/flows`` checks that ``prefect.yaml``
says the same as ``DEPLOYMENTS``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warehouse.settings import is_url

TIMEZONE = "UTC"
SCHEDULED_WAIT_LOCK_S = 1800
CONCURRENCY_LIMIT = 1  # runs of one deployment never overlap; a late one queues (prefect.yaml: ENQUEUE)


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    flow: str                     # attribute of flows.pipeline
    cron: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def entrypoint(self) -> str:
        return f"flows/pipeline.py:{self.flow}"


DEPLOYMENTS = (
    DeploymentSpec("daily", "daily_pipeline", "0 2 * * 1-5",
                   "Harvest, classify the new papers and recompute the metrics after arXiv's announcement.",
                   {"harvest": True, "report": False, "wait_lock": SCHEDULED_WAIT_LOCK_S}),
    DeploymentSpec("weekly-report", "report_flow", "0 3 * * 0",
                   "Rebuild the full HTML report site.",
                   {"wait_lock": SCHEDULED_WAIT_LOCK_S}),
)


def runner_deployments(home: str | os.PathLike | None) -> list:
    """``RunnerDeployment`` objects for ``flow.serve``-style serving, with ``home`` as a parameter."""
    from prefect.schedules import Cron

    from flows import pipeline

    out = []
    for spec in DEPLOYMENTS:
        parameters = dict(spec.parameters)
        if home is not None:
            parameters["home"] = str(home) if is_url(str(home)) else str(Path(home))
        out.append(getattr(pipeline, spec.flow).to_deployment(
            name=spec.name, description=spec.description, parameters=parameters,
            schedules=[Cron(spec.cron, timezone=TIMEZONE)], concurrency_limit=CONCURRENCY_LIMIT))
    return out


def serve_deployments(home: str | os.PathLike | None, limit: int = 1) -> None:
    """Serve every deployment from this process until it is stopped (SIGINT/SIGTERM)."""
    from prefect import serve

    serve(*runner_deployments(home), limit=limit)
