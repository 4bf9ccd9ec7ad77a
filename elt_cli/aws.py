"""boto3 sessions and the one place AWS calls are retried (throttling only) and classified."""

from __future__ import annotations

from typing import Any

from elt_cli.errors import BadInput, EltError

# Throttling answers: safe to retry, the call did nothing. Everything else is final.
THROTTLING_CODES = frozenset(
    {
        "TooManyRequestsException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestThrottled",
    }
)
THROTTLE_ATTEMPTS = 10


def throttle_wait():
    """Exponential backoff with full jitter, 0.5 s doubling up to 20 s. Tests patch this."""
    from tenacity import wait_random_exponential

    return wait_random_exponential(multiplier=0.5, max=20)


def error_code(exc: BaseException) -> str:
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def is_throttling(exc: BaseException) -> bool:
    return error_code(exc) in THROTTLING_CODES


def call(fn, /, on_retry=None, **kwargs) -> Any:
    """Call a boto3 client method, retrying only throttling, with backoff.

    `on_retry(attempt, wait_seconds)` is told before each wait."""
    from tenacity import Retrying, retry_if_exception, stop_after_attempt

    def before_sleep(state):
        if on_retry:
            on_retry(state.attempt_number, state.next_action.sleep)

    for attempt in Retrying(
        before_sleep=before_sleep,
        retry=retry_if_exception(is_throttling),
        wait=throttle_wait(),
        stop=stop_after_attempt(THROTTLE_ATTEMPTS),
        reraise=True,
    ):
        with attempt:
            return fn(**kwargs)


def session(settings):
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=settings.profile, region_name=settings.region)
    except ProfileNotFound as exc:
        raise BadInput(f"AWS profile {settings.profile!r} not found") from exc


def client(aws_session, service: str):
    from botocore.config import Config

    # botocore retries network errors and 5xx itself; throttling is retried by `call` above,
    # so let botocore try each request only a few times.
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 3}, user_agent_appid="elt-cli"
    )
    try:
        return aws_session.client(service, config=config)
    except Exception as exc:  # NoRegionError and friends: configuration, nothing ran yet
        raise BadInput(
            f"cannot create the AWS {service} client: {exc}; set --region or AWS_REGION"
        ) from exc


def describe(exc: BaseException) -> str:
    """One line for an AWS error, with its code; never credentials or signed URLs."""
    code = error_code(exc)
    message = getattr(exc, "response", {}).get("Error", {}).get("Message", "") or str(exc)
    message = " ".join(message.split())
    return f"{code}: {message}" if code else message


def failure(exc: BaseException, what: str) -> EltError:
    from botocore.exceptions import NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return BadInput(
            "no AWS credentials found: set AWS_PROFILE (or --profile), or the "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY variables"
        )
    if is_access_denied(exc):
        return EltError(
            f"{what}: access denied ({describe(exc)}); `elt iam-policy` prints the permissions "
            "elt needs"
        )
    return EltError(f"{what}: {describe(exc)}")


def is_access_denied(exc: BaseException) -> bool:
    code = error_code(exc)
    status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in ("AccessDenied", "AccessDeniedException", "403") or status == 403
