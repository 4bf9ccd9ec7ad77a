"""How often elt checks a running Athena query: the policy, then the engine keeping to it."""

from __future__ import annotations

import random

import pytest

from elt_cli.engines.flight import PollWait


def longest(poll_max: float) -> PollWait:
    return PollWait(poll_max, uniform=lambda low, high: high)  # jitter that shortens nothing


def shortest(poll_max: float) -> PollWait:
    return PollWait(poll_max, uniform=lambda low, high: low)


@pytest.mark.parametrize(
    ("elapsed", "wait"),
    [(0, 0.25), (1, 0.25), (2.5, 0.25), (4, 0.4), (10, 1.0), (49, 4.9), (50, 5.0), (1e4, 5.0)],
)
def test_the_wait_is_a_tenth_of_the_time_run_so_far_between_a_floor_and_the_cap(elapsed, wait):
    assert longest(5.0).delay(elapsed) == pytest.approx(wait)
    assert shortest(5.0).delay(elapsed) == pytest.approx(0.9 * wait)


def test_poll_max_caps_the_wait():
    assert longest(2.0).delay(1000) == 2.0
    assert longest(60.0).delay(1000) == 60.0


def test_the_jitter_only_shortens_the_wait():
    wait = PollWait(5.0, uniform=random.Random(7).uniform)
    samples = [wait.delay(30) for _ in range(1000)]
    assert 2.7 <= min(samples) < 2.75 and 2.95 < max(samples) <= 3.0


def schedule(wait: PollWait, duration: float) -> tuple[float, int]:
    """(how late completion is noticed, how many checks) for a query of `duration` seconds:
    a check at once, then one after each wait, as the engine does."""
    t, checks = 0.0, 1
    while t < duration:
        t += wait.delay(t)
        checks += 1
    return t - duration, checks


@pytest.mark.parametrize(("duration", "checks"), [(1, 5), (10, 26), (60, 45), (600, 153)])
def test_completion_is_noticed_within_a_tenth_of_the_duration_with_few_checks(duration, checks):
    allowed = max(0.25, 0.1 * duration)
    late, count = schedule(longest(5.0), duration)
    assert late <= allowed and count == checks
    late, count = schedule(shortest(5.0), duration)
    assert late <= allowed and count <= checks * 1.2  # jitter adds a few checks at most


def test_a_query_is_checked_as_the_policy_says(elt, aws):
    """moto's state manager moves a query on in real time: QUEUED 0.4 s, then RUNNING 0.4 s,
    noticed only when checked. At a quarter of a second between checks that is 4 to 6 checks,
    and completion noticed within 0.25 s (a fixed 1 s poll would make 2 checks, 0.2 s late)."""
    aws.query_time(0.4)
    result = elt("--lake", "s3://lake", "ensure-db")
    assert result.exit_code == 0, result.output
    checks = [
        t for t, (op, _) in zip(aws.times, aws.calls, strict=True) if op == "BatchGetQueryExecution"
    ]
    (started,) = [
        t for t, (op, _) in zip(aws.times, aws.calls, strict=True) if op == "StartQueryExecution"
    ]
    assert 4 <= len(checks) <= 6
    assert 0.8 <= checks[-1] - started < 0.8 + 0.25 + 0.1  # 0.1 s for the calls themselves
    assert aws.executions()[0]["Status"]["State"] == "SUCCEEDED"
