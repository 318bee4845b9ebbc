"""Running a flow and reading back what it published."""

from __future__ import annotations

import polars as pl


def run_flow(flow, **parameters) -> tuple[dict, str]:
    """The flow's result and its run id (raises what the flow raised)."""
    state = flow(**parameters, return_state=True)
    return state.result(), str(state.state_details.flow_run_id)


def artifacts(flow_run_id: str) -> dict[str, object]:
    """The artifacts a flow run published, by key."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(
            any_=[flow_run_id])))
    return {a.key: a for a in found}


def papers_frame(home) -> pl.DataFrame:
    """The papers table without the write time, sorted: what two equivalent imports must agree on."""
    from warehouse import open_warehouse

    return open_warehouse(home).scan_papers().drop("ingested_at").collect().sort("id")
