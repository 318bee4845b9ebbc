"""A real Prefect server on 127.0.0.1: deployments served by `arxiv-trends serve`, and from prefect.yaml
run by a process worker; a triggered run of each completes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flows.deployments import DEPLOYMENTS
from tests.flows.conftest import copy_home

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVER_START_S = 120
RUN_TIMEOUT_S = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(what: str, check, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited ({proc.returncode}):\n{_tail(log)}")
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s\n{_tail(log)}")


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-3000:] if log and log.exists() else ""


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # the runner and the worker stop cleanly on SIGINT
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """``prefect server start`` on 127.0.0.1 with its own PREFECT_HOME; skipped if it cannot start."""
    folder = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(folder / "home"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "PREFECT_UI_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = folder / "server.log"
    proc = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    api = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        try:
            return httpx.get(f"{api}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        _wait("prefect server start", healthy, SERVER_START_S, proc, log)
    except AssertionError as exc:
        _stop(proc)
        pytest.skip(f"a local Prefect server could not start on 127.0.0.1: {str(exc)[:500]}")
    yield api, folder
    _stop(proc)


def _client_env(api: str, folder: Path, home: Path) -> dict[str, str]:
    return {**os.environ, "PREFECT_API_URL": api, "PREFECT_HOME": str(folder / "client"),
            "ARXIV_TRENDS_HOME": str(home), "PREFECT_RUNNER_POLL_FREQUENCY": "2",
            "PREFECT_WORKER_QUERY_SECONDS": "2", "PWD": str(ROOT)}


def _deployments(api: str) -> dict[str, dict]:
    found = httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
    flows = {f["id"]: f["name"] for f in httpx.post(f"{api}/flows/filter", json={}, timeout=10).json()}
    return {f"{flows[d['flow_id']]}/{d['name']}": d for d in found}


def _run_to_completion(api: str, deployment: dict, parameters: dict, proc, log) -> dict:
    for _ in range(5):  # 503 is the server's "retry this" (a busy SQLite database): Prefect's own client retries it
        created = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run",
                             json={"parameters": parameters}, timeout=10)
        if created.status_code != 503:
            break
        time.sleep(2)
    assert created.status_code < 300, f"creating the flow run failed: {created.status_code} {created.text[:500]}"
    run = created.json()

    def final():
        # a loaded server may answer a poll with an error body (no "state" yet): that is "not finished", not a failure
        try:
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=10).json().get("state") or {}
        except (httpx.HTTPError, ValueError):
            return None
        return state if state.get("type") in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

    return _wait("the triggered flow run", final, RUN_TIMEOUT_S, proc, log)


def test_served_deployments_run_when_triggered(server, classified_copy):
    home_copy = classified_copy
    api, folder = server
    log = folder / "serve.log"
    proc = subprocess.Popen([str(BIN / "arxiv-trends"), "--home", str(home_copy), "serve"],
                            env=_client_env(api, folder, home_copy), cwd=ROOT, stdout=log.open("w"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        names = {"daily-pipeline/daily", "report/weekly-report"}

        def registered():
            found = _deployments(api)
            return found if names <= set(found) else None

        deployments = _wait("served deployments registered", registered, 120, proc, log)
        daily = deployments["daily-pipeline/daily"]
        assert daily["parameters"]["home"] == str(home_copy)
        assert daily["parameters"]["report"] is False
        crons = {s["schedule"]["cron"] for s in daily["schedules"]}
        assert crons == {next(s.cron for s in DEPLOYMENTS if s.name == "daily")}
        state = _run_to_completion(api, daily, {"harvest": False}, proc, log)
        assert state["type"] == "COMPLETED", _tail(log)
    finally:
        _stop(proc)
    assert (home_copy / "state" / "runs.json").exists()


def test_prefect_yaml_deploys_to_a_process_pool_and_a_worker_runs_it(server, classified_copy):
    home_copy = classified_copy
    api, folder = server
    env = _client_env(api, folder, home_copy)
    prefect = str(BIN / "prefect")
    subprocess.run([prefect, "work-pool", "create", "arxiv-trends", "--type", "process", "--overwrite"],
                   env=env, cwd=ROOT, check=True, capture_output=True)
    deploy = subprocess.run([prefect, "--no-prompt", "deploy", "--all"], env=env, cwd=ROOT, capture_output=True,
                            text=True)
    assert deploy.returncode == 0, deploy.stdout[-3000:] + deploy.stderr[-3000:]
    deployments = _deployments(api)
    aggregate_only = deployments["daily-pipeline/daily"]
    assert aggregate_only["work_pool_name"] == "arxiv-trends"
    assert aggregate_only["pull_steps"][0]["prefect.deployments.steps.set_working_directory"]["directory"] == str(ROOT)
    log = folder / "worker.log"
    worker = subprocess.Popen([prefect, "worker", "start", "--pool", "arxiv-trends", "--run-once"], env=env, cwd=ROOT,
                              stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        state = _run_to_completion(api, aggregate_only, {"harvest": False}, worker, None)
        assert state["type"] == "COMPLETED", _tail(log)
    finally:
        _stop(worker)


def test_deploy_registers_the_config_files_schedules_and_its_runs_read_the_file(server, aggregated, tmp_path):
    api, folder = server
    home = copy_home(aggregated, tmp_path / "home")
    (home / "arxiv-trends.toml").write_text('[report]\ntitle = "Configured trends"\n\n[schedule]\n'
                                            'weekly_report = "15 6 * * 6"\ntimezone = "Europe/Berlin"\n')
    env = _client_env(api, folder, home)
    prefect = str(BIN / "prefect")
    subprocess.run([prefect, "work-pool", "create", "arxiv-trends-config", "--type", "process", "--overwrite"],
                   env=env, cwd=ROOT, check=True, capture_output=True)
    deploy = subprocess.run([str(BIN / "arxiv-trends"), "--home", str(home), "deploy", "--pool", "arxiv-trends-config"],
                            env=env, cwd=tmp_path, capture_output=True, text=True)
    assert deploy.returncode == 0, deploy.stdout[-3000:] + deploy.stderr[-3000:]
    assert "registered 2 deployments on the work pool 'arxiv-trends-config'" in deploy.stdout
    weekly = _deployments(api)["report/weekly-report"]
    assert weekly["work_pool_name"] == "arxiv-trends-config"
    assert weekly["entrypoint"] == "flows.pipeline.report_flow"  # imported from the package: any folder will do
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in weekly["schedules"]] == \
        [("15 6 * * 6", "Europe/Berlin")]
    assert weekly["parameters"]["home"] == str(home)
    log = folder / "worker-config.log"
    worker = subprocess.Popen([prefect, "worker", "start", "--pool", "arxiv-trends-config", "--run-once"], env=env,
                              cwd=tmp_path, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        state = _run_to_completion(api, weekly, {}, worker, None)
        assert state["type"] == "COMPLETED", _tail(log)
    finally:
        _stop(worker)
    assert "· Configured trends</title>" in (home / "reports" / "index.html").read_text(encoding="utf-8")


def test_deploy_to_a_missing_pool_is_one_line(server, tmp_path):
    api, folder = server
    env = _client_env(api, folder, tmp_path / "home")
    deploy = subprocess.run([str(BIN / "arxiv-trends"), "deploy", "--pool", "no-such-pool"], env=env, cwd=tmp_path,
                            capture_output=True, text=True)
    assert deploy.returncode == 1
    assert deploy.stderr.startswith("error: Could not find work pool 'no-such-pool'") and \
        deploy.stderr.count("\n") == 1, deploy.stderr
