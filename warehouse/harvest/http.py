"""The one HTTP client of a harvest: politeness delay, retries, Retry-After, backoff, all on an injectable clock.

arXiv asks harvesters for one connection and at least 3 seconds between requests, and answers overload with
503 + Retry-After. Everything about *when* a request may go out lives here, measured on ``clock`` and waited
out with ``sleep`` (both injectable), so tests check the timing without sleeping.
"""

from __future__ import annotations

import random
import socket
import time
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Callable, TypeVar
from urllib.parse import urlsplit

import httpx

from warehouse.errors import InputError
from warehouse.harvest.errors import GaveUp, HostUnknown, RetryableError

ARXIV_DOMAIN = "arxiv.org"
ARXIV_MIN_DELAY_S = 3.0
DEFAULT_DELAY_S = 3.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 520, 521, 522, 523, 524})
USER_AGENT = "arxiv-trends/0.1 (research-trend harvester; mailto:{contact})"

T = TypeVar("T")


def is_arxiv_host(url: str) -> bool:
    """export.arxiv.org, oaipmh.arxiv.org, arxiv.org, ...: hosts where arXiv's politeness rules apply."""
    host = (urlsplit(url).hostname or "").lower()
    return host == ARXIV_DOMAIN or host.endswith("." + ARXIV_DOMAIN)


def is_loopback(url: str) -> bool:
    """127.0.0.1, ::1, localhost: this machine (a test server or a local mirror), not a shared service."""
    return (urlsplit(url).hostname or "").lower() in LOOPBACK_HOSTS


def polite_delay(url: str, delay: float | None) -> float:
    """The delay to use against ``url``: 3 s by default (0 on this machine's loopback), and never below
    3 s against arXiv's own hosts."""
    if delay is None:
        return 0.0 if is_loopback(url) else DEFAULT_DELAY_S
    if delay < 0:
        raise InputError(f"--delay must be >= 0 (got {delay})")
    if is_arxiv_host(url) and delay < ARXIV_MIN_DELAY_S:
        raise InputError(f"--delay {delay:g} is below arXiv's politeness floor of {ARXIV_MIN_DELAY_S:g} s for "
                         f"{urlsplit(url).hostname}; lower delays are only for other endpoints (a local mirror)")
    return float(delay)


def _name_not_resolved(exc: BaseException) -> bool:
    """Whether a transport error comes from DNS (``socket.gaierror``, possibly wrapped by httpcore and httpx)."""
    todo: list[BaseException] = [exc]
    visited: set[int] = set()
    while todo:
        current = todo.pop()
        if id(current) in visited:
            continue
        visited.add(id(current))
        if isinstance(current, socket.gaierror):
            return True
        todo.extend(a for a in current.args if isinstance(a, BaseException))
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return False


@dataclass
class RetryPolicy:
    """When to retry and when to give up."""

    max_attempts: int = 8            # tries of one request before giving up
    budget_s: float = 1800.0         # total seconds a run may spend waiting on failures
    backoff_base_s: float = 5.0      # first backoff; doubles per failure
    backoff_cap_s: float = 300.0     # no single backoff longer than this
    max_retry_after_s: float = 3600.0  # a Retry-After beyond this is not waited for: give up


@dataclass
class ClientOptions:
    """How a harvest talks to its server; the injectable parts (clock, sleep, rng, transport) are for tests."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    progress: Callable[[str], None] | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wall_clock: Callable[[], float] = time.time
    rng: random.Random | None = None
    transport: httpx.BaseTransport | None = None

    def client(self, contact: str, delay: float) -> "PoliteClient":
        return PoliteClient(contact=contact, delay=delay, policy=self.retry, clock=self.clock, sleep=self.sleep,
                            wall_clock=self.wall_clock, rng=self.rng, transport=self.transport)


@dataclass
class Fetched:
    """A response as received (the body is complete)."""

    url: str
    status: int
    content: bytes
    headers: dict[str, str]


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    waited_polite_s: float = 0.0
    waited_retry_s: float = 0.0
    request_times: list[float] = field(default_factory=list)


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now())


class PoliteClient:
    """GETs with one connection, a minimum gap between requests and bounded retries.

    The gap runs from the end of one response to the start of the next request, so the caller's own work
    (saving, parsing, ingesting a page) overlaps the wait instead of adding to it.
    """

    def __init__(self, *, contact: str, delay: float, policy: RetryPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 wall_clock: Callable[[], float] = time.time, rng: random.Random | None = None,
                 transport: httpx.BaseTransport | None = None, timeout_s: float = 180.0):
        self.delay = delay
        self.policy = policy or RetryPolicy()
        self.clock, self.sleep, self.wall_clock = clock, sleep, wall_clock
        self.rng = rng or random.Random()
        self.stats = ClientStats()
        self._next_allowed: float | None = None
        self._http = httpx.Client(
            headers={"User-Agent": USER_AGENT.format(contact=contact), "Accept-Encoding": "gzip"},
            timeout=httpx.Timeout(timeout_s, connect=30.0),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            follow_redirects=True, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "PoliteClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _wait_until(self, moment: float) -> float:
        """Sleep until ``clock()`` reaches ``moment``; returns the seconds waited (by the clock)."""
        start = self.clock()
        while (now := self.clock()) < moment:
            self.sleep(moment - now)
        return max(0.0, self.clock() - start)

    def _backoff(self, failures: int) -> float:
        full = min(self.policy.backoff_cap_s, self.policy.backoff_base_s * 2 ** (failures - 1))
        return full / 2 + self.rng.uniform(0, full / 2)  # "equal jitter": never less than half

    def request(self, url: str, params: dict[str, str] | None, handle: Callable[[Fetched], T]) -> T:
        """GET ``url`` and return ``handle(response)``, retrying network errors, 429/5xx and
        ``RetryableError`` from ``handle``; raises ``GaveUp`` once the budget is spent."""
        failures = 0
        not_before = 0.0
        while True:
            if self._next_allowed is not None:
                self.stats.waited_polite_s += self._wait_until(self._next_allowed)
            if not_before:
                self.stats.waited_retry_s += self._wait_until(not_before)
            self.stats.requests += 1
            self.stats.request_times.append(self.clock())
            reason, retry_after = None, None
            try:
                resp = self._http.get(url, params=params)
                fetched = Fetched(str(resp.url), resp.status_code, resp.content, dict(resp.headers))
            except httpx.TransportError as exc:
                if self.stats.requests == 1 and _name_not_resolved(exc):
                    host = urlsplit(url).hostname
                    raise HostUnknown(f"cannot resolve {host} ({exc}): no network or no DNS on this machine; "
                                      "nothing was harvested (work offline with --no-harvest, or check "
                                      "--endpoint)") from exc
                reason = f"network error: {type(exc).__name__}: {exc}"
            finally:
                self._next_allowed = self.clock() + self.delay
            if reason is None:
                if fetched.status in RETRY_STATUSES:
                    reason = f"HTTP {fetched.status}"
                    retry_after = retry_after_seconds(fetched.headers.get("retry-after"), self.wall_clock)
                else:
                    try:
                        return handle(fetched)
                    except RetryableError as exc:
                        reason = str(exc)
            failures += 1
            self.stats.retries += 1
            wait = retry_after if retry_after is not None else self._backoff(failures)
            wait = max(wait, self.delay)
            if retry_after is not None and retry_after > self.policy.max_retry_after_s:
                raise GaveUp(f"{url}: server asked to retry after {retry_after:.0f} s ({reason}); "
                             "not waiting that long")
            spent = self.stats.waited_retry_s
            if failures >= self.policy.max_attempts or spent + wait > self.policy.budget_s:
                tries = f"{failures} failed attempt" + ("s" if failures != 1 else "")
                raise GaveUp(f"{url}: gave up after {tries} and {spent:.0f} s of retry waits (last: {reason})")
            not_before = self.clock() + wait

    def pause(self, reason: str, failures: int) -> None:
        """Wait as after ``failures`` failed requests in a row (the same backoff, under the same retry budget);
        ``GaveUp`` when the budget cannot cover the wait. For failures the caller sees in a response it
        accepted, such as a resumptionToken the server no longer knows."""
        wait = max(self._backoff(failures), self.delay)
        spent = self.stats.waited_retry_s
        if spent + wait > self.policy.budget_s:
            raise GaveUp(f"gave up after {spent:.0f} s of retry waits, the budget of {self.policy.budget_s:.0f} s "
                         f"(last: {reason})")
        self.stats.waited_retry_s += self._wait_until(self.clock() + wait)
