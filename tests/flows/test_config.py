"""Prefect settings, the step registry and the deployment definitions (no Prefect API needed)."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from flows import prefect_env, steps
from flows.deployments import DEPLOYMENTS, TIMEZONE
from warehouse.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_configure_sets_offline_defaults_without_overriding_the_user(monkeypatch, tmp_path):
    for key in [*prefect_env.OFFLINE_DEFAULTS, "PREFECT_HOME", "PREFECT_PROFILES_PATH"]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DO_NOT_TRACK", "yes")  # the user's own value stays
    values = prefect_env.configure(Settings.from_home(tmp_path / "data"))
    assert os.environ["DO_NOT_TRACK"] == "yes"
    assert values["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert int(values["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]) >= 60
    assert Path(values["PREFECT_HOME"]) == (tmp_path / "data" / "prefect").resolve()
    assert Path(values["PREFECT_HOME"]).is_dir()  # Prefect itself does not create parent folders


def test_missing_step_is_named_and_a_broken_module_is_not_hidden(monkeypatch):
    monkeypatch.setitem(steps.ENTRY_POINTS, "ghost", ("warehouse.no_such_module", "run"))
    monkeypatch.setitem(steps.ENTRY_POINTS, "no_attr", ("warehouse.state", "no_such_function"))
    assert steps.missing("ghost") == "warehouse.no_such_module is not built yet"
    assert steps.missing("no_attr") == "warehouse.state.no_such_function is not built yet"
    assert steps.missing("aggregate", "report") is None
    monkeypatch.setitem(steps.ENTRY_POINTS, "broken", ("tests.flows.broken_module", "run"))
    with pytest.raises(ModuleNotFoundError, match="a_dependency_that_is_not_installed"):
        steps.entry_point("broken")


def _yaml_deployments() -> dict[str, dict]:
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return {d["name"]: d for d in config["deployments"]}


def test_prefect_yaml_matches_the_served_deployments():
    in_yaml = _yaml_deployments()
    assert set(in_yaml) == {spec.name for spec in DEPLOYMENTS}
    for spec in DEPLOYMENTS:
        d = in_yaml[spec.name]
        assert d["entrypoint"] == spec.entrypoint
        assert d["parameters"] == spec.parameters
        assert d["schedules"] == [{"cron": spec.cron, "timezone": TIMEZONE}]
        assert d["concurrency_limit"]["limit"] == 1
        module, func = spec.entrypoint.split(":")
        assert (ROOT / module).exists()
        from flows import pipeline
        assert callable(getattr(pipeline, func))


def test_schedules_fall_after_the_announcement_on_weekdays_and_on_sunday():
    import asyncio

    from prefect.server.schemas.schedules import CronSchedule

    def next_runs(cron: str, n: int) -> list[datetime]:
        start = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)  # a Sunday
        return asyncio.run(CronSchedule(cron=cron, timezone=TIMEZONE).get_dates(n=n, start=start))

    daily = {s.name: s for s in DEPLOYMENTS}["daily"]
    runs = next_runs(daily.cron, 7)
    assert [r.strftime("%a %H:%M") for r in runs[:5]] == ["Mon 02:00", "Tue 02:00", "Wed 02:00", "Thu 02:00",
                                                          "Fri 02:00"]
    assert runs[5].strftime("%a") == "Mon"  # nothing on the weekend
    weekly = {s.name: s for s in DEPLOYMENTS}["weekly-report"]
    assert {r.strftime("%a") for r in next_runs(weekly.cron, 3)} == {"Sun"}
