"""The scheduled deployments, served by ``arxiv-trends serve``, registered on a work pool by ``arxiv-trends deploy``,
and mirrored (with the default schedules) by ``prefect.yaml``.

arXiv announces new papers Sunday to Thursday at 20:00 US Eastern (00:00/01:00 UTC), so the daily run
starts at 02:00 UTC Monday to Friday, after the announcement. It harvests, classifies and aggregates;
the full report is rebuilt once a week, on Sunday. Scheduled runs wait up to 30 minutes for a run that
is still writing the warehouse instead of failing at once. The schedules come from the config file
(``schedule.*``, ``flows.config``); every other setting is read by the runs themselves when they start.
``tests/flows`` checks that ``prefect.yaml`` says the same as ``DEPLOYMENTS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warehouse.settings import is_url

if TYPE_CHECKING:
    from flows.config import Config

TIMEZONE = "UTC"
SCHEDULED_WAIT_LOCK_S = 1800
CONCURRENCY_LIMIT = 1  # runs of one deployment never overlap; a late one queues (prefect.yaml: ENQUEUE)


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    flow: str                     # attribute of flows.pipeline
    cron: str                     # the default schedule (the config file's schedule_key overrides it)
    schedule_key: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def entrypoint(self) -> str:
        return f"flows/pipeline.py:{self.flow}"

    def run_parameters(self, config: "Config") -> dict[str, Any]:
        """The parameters of a scheduled run: the spec's, the data root, and the config file when one was named."""
        parameters = dict(self.parameters)
        home = config.settings.location
        parameters["home"] = home if is_url(home) else str(Path(home))
        if config.named_file:
            parameters["config"] = config.named_file
        return parameters


DEPLOYMENTS = (
    DeploymentSpec("daily", "daily_pipeline", "0 2 * * 1-5", "schedule.daily",
                   "Harvest, classify the new papers and recompute the metrics after arXiv's announcement.",
                   {"harvest": True, "report": False, "wait_lock": SCHEDULED_WAIT_LOCK_S}),
    DeploymentSpec("weekly-report", "report_flow", "0 3 * * 0", "schedule.weekly_report",
                   "Rebuild the full HTML report site.",
                   {"wait_lock": SCHEDULED_WAIT_LOCK_S}),
)


def runner_deployments(config: "Config", module_entrypoints: bool = False) -> list:
    """``RunnerDeployment`` objects with the config's schedules and data root (``module_entrypoints``: the flows
    named by module path, ``flows.pipeline.daily_pipeline``, so a work pool's worker imports them from the installed
    package wherever it runs)."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    from flows import pipeline

    kind = EntrypointType.MODULE_PATH if module_entrypoints else EntrypointType.FILE_PATH
    return [getattr(pipeline, spec.flow).to_deployment(
        name=spec.name, description=spec.description, parameters=spec.run_parameters(config),
        schedules=[Cron(config[spec.schedule_key], timezone=config["schedule.timezone"])],
        concurrency_limit=CONCURRENCY_LIMIT, entrypoint_type=kind) for spec in DEPLOYMENTS]


def serve_deployments(config: "Config", limit: int = 1) -> None:
    """Serve every deployment from this process until it is stopped (SIGINT/SIGTERM)."""
    from prefect import serve

    serve(*runner_deployments(config), limit=limit)


def deploy_to_pool(config: "Config", pool: str) -> list[str]:
    """Register every deployment on the work pool ``pool`` (it must exist); returns the deployment ids."""
    from prefect import deploy

    ids = deploy(*runner_deployments(config, module_entrypoints=True), work_pool_name=pool, build=False, push=False,
                 print_next_steps_message=False, ignore_warnings=True)
    return [str(i) for i in ids]
