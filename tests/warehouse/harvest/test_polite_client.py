"""The HTTP client's politeness and retry rules, timed on an injected clock (no real sleeping)."""

from __future__ import annotations

import random
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from tests.warehouse.harvest.fake_arxiv import FakeArxiv, FakeClock, synthetic_records
from warehouse.errors import InputError
from warehouse.harvest.errors import GaveUp, HostUnknown, RetryableError
from warehouse.harvest.http import PoliteClient, RetryPolicy, polite_delay, retry_after_seconds


def ok(fetched):
    return fetched.status


@pytest.fixture
def server():
    with FakeArxiv(synthetic_records(30), page_size=10) as srv:
        yield srv


def client_for(clock: FakeClock, delay: float = 3.0, **policy) -> PoliteClient:
    return PoliteClient(contact="me@example.org", delay=delay, policy=RetryPolicy(**policy), clock=clock,
                        sleep=clock.sleep, wall_clock=lambda: 1_700_000_000.0, rng=random.Random(7))


def test_requests_are_at_least_three_seconds_apart_on_the_clock(server):
    clock = FakeClock()
    params = {"verb": "ListRecords", "metadataPrefix": "arXivRaw", "from": "2025-01-01", "until": "2025-01-05"}
    with client_for(clock) as client:
        for _ in range(4):
            assert client.request(server.oai_url, params, ok) == 200
    times = client.stats.request_times
    assert len(times) == 4 and times[0] == 1000.0  # the first request does not wait
    assert [round(b - a, 6) for a, b in zip(times, times[1:])] == [3.0, 3.0, 3.0]
    assert client.stats.waited_polite_s == pytest.approx(9.0)


def test_caller_work_between_requests_counts_towards_the_delay(server):
    clock = FakeClock()
    with client_for(clock) as client:
        client.request(server.oai_url, {"verb": "ListRecords", "metadataPrefix": "arXivRaw"}, ok)
        clock.now += 2.5  # parsing and ingesting a page took 2.5 s
        client.request(server.oai_url, {"verb": "ListRecords", "metadataPrefix": "arXivRaw"}, ok)
    assert clock.sleeps == [pytest.approx(0.5)]


@pytest.mark.parametrize("fault", ["503", "429"])
def test_retry_after_seconds_is_honoured(server, fault):
    server.faults = {1: fault}
    server.retry_after = 42
    clock = FakeClock()
    with client_for(clock) as client:
        assert client.request(server.oai_url, {"verb": "ListRecords", "metadataPrefix": "arXivRaw"}, ok) == 200
    first, second = client.stats.request_times
    assert second - first == pytest.approx(42.0) and client.stats.retries == 1


def test_retry_after_http_date_is_honoured():
    now = 1_700_000_000.0
    when = datetime.fromtimestamp(now, timezone.utc) + timedelta(seconds=90)
    assert retry_after_seconds(format_datetime(when, usegmt=True), lambda: now) == pytest.approx(90.0)
    assert retry_after_seconds("17") == 17.0 and retry_after_seconds("soon") is None


def test_network_errors_and_5xx_back_off_exponentially_with_jitter_and_a_cap(server):
    server.faults = {1: "500", 2: "drop", 3: "500", 4: "500"}
    clock = FakeClock()
    with client_for(clock, delay=3.0, backoff_base_s=10.0, backoff_cap_s=40.0) as client:
        assert client.request(server.oai_url, {"verb": "ListRecords", "metadataPrefix": "arXivRaw"}, ok) == 200
    t = client.stats.request_times
    gaps = [b - a for a, b in zip(t, t[1:])]
    for gap, full in zip(gaps, [10.0, 20.0, 40.0, 40.0]):
        assert full / 2 <= gap <= full  # equal jitter: between half and all of the capped backoff
    assert len(set(round(g / f, 6) for g, f in zip(gaps, [10, 20, 40, 40]))) > 1  # jittered, not fixed


def test_gives_up_after_the_attempt_budget_with_a_clear_message(server):
    server.faults = {n: "503" for n in range(1, 10)}
    clock = FakeClock()
    with client_for(clock, max_attempts=3) as client, pytest.raises(GaveUp, match="gave up after 3 failed attempts"):
        client.request(server.oai_url, {"verb": "ListRecords"}, ok)
    assert server.requests == 3


def test_gives_up_when_the_time_budget_is_spent(server):
    server.faults = {n: "503" for n in range(1, 10)}
    server.retry_after = 100
    clock = FakeClock()
    with client_for(clock, budget_s=250) as client, pytest.raises(GaveUp, match="HTTP 503"):
        client.request(server.oai_url, {"verb": "ListRecords"}, ok)
    assert server.requests == 3  # waits of 100 + 100 fit in 250 s, a third would not


def test_handler_can_ask_for_a_retry(server):
    calls = []

    def picky(fetched):
        calls.append(fetched.status)
        if len(calls) == 1:
            raise RetryableError("page cut short")
        return "fine"

    with client_for(FakeClock()) as client:
        assert client.request(server.oai_url, {"verb": "ListRecords"}, picky) == "fine"
    assert calls == [200, 200]


def test_user_agent_names_the_contact(server):
    with client_for(FakeClock()) as client:
        client.request(server.oai_url, {"verb": "Identify"}, ok)
    (agent,) = server.user_agents
    assert agent.startswith("arxiv-trends/") and "mailto:me@example.org" in agent


def test_delay_floor_applies_to_arxiv_hosts_only():
    for url in ("https://oaipmh.arxiv.org/oai", "http://export.arxiv.org/oai2", "https://arxiv.org/x"):
        with pytest.raises(InputError, match="politeness floor"):
            polite_delay(url, 1.0)
        assert polite_delay(url, 3.0) == 3.0 and polite_delay(url, None) == 3.0
    assert polite_delay("http://127.0.0.1:8000/oai", 0) == 0.0 and polite_delay("http://localhost/oai", None) == 0.0
    assert polite_delay("http://mirror.example.org/oai", None) == 3.0
    with pytest.raises(InputError):
        polite_delay("http://127.0.0.1/oai", -1)


def test_one_connection_is_reused(server):
    with client_for(FakeClock(), delay=0) as client:
        for _ in range(3):
            client.request(server.oai_url, {"verb": "Identify"}, ok)
        pool = client._http._transport._pool
        assert isinstance(client._http._transport, httpx.HTTPTransport) and len(pool.connections) == 1


def _dns_failure(request):
    try:
        raise socket.gaierror(-2, "Name or service not known")
    except socket.gaierror as exc:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request) from exc


def test_unresolvable_host_on_the_first_request_fails_at_once():
    clock = FakeClock()
    client = PoliteClient(contact="me@example.org", delay=3.0, clock=clock, sleep=clock.sleep,
                          transport=httpx.MockTransport(_dns_failure))
    with client, pytest.raises(HostUnknown, match="cannot resolve oai.example.invalid.*--no-harvest"):
        client.request("http://oai.example.invalid/oai", {"verb": "Identify"}, ok)
    assert client.stats.requests == 1 and client.stats.retries == 0 and clock.sleeps == []


def test_a_dns_hiccup_in_the_middle_of_a_harvest_is_retried():
    calls = []

    def flaky(request):
        calls.append(request)
        if len(calls) == 2:
            _dns_failure(request)
        return httpx.Response(200, content=b"<ok/>")

    clock = FakeClock()
    client = PoliteClient(contact="me@example.org", delay=3.0, clock=clock, sleep=clock.sleep,
                          rng=random.Random(7), transport=httpx.MockTransport(flaky))
    with client:
        assert client.request("http://oai.example.org/oai", None, ok) == 200
        assert client.request("http://oai.example.org/oai", None, ok) == 200
    assert len(calls) == 3 and client.stats.retries == 1
