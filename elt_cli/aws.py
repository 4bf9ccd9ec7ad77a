"""boto3 sessions and the one place AWS calls are retried (throttling only) and classified."""

from __future__ import annotations

from typing import Any

from elt_cli.errors import BadInput, EltError, Throttled

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


def call(fn, what: str, /, *, on_retry=None, missing=(), stop=None, **kwargs) -> Any:
    """Call a boto3 client method, retrying only throttling, with backoff; every other AWS
    error becomes one EltError saying `what` was being done, the cause and the fix, and
    throttling that outlasts the retries a Throttled.

    `missing`: error codes (or a test of the error) meaning "not there": None is returned.
    `on_retry(attempt, wait_seconds)` is told before each wait. `stop`: when to give up
    (a tenacity stop; THROTTLE_ATTEMPTS tries unless given)."""
    from botocore.exceptions import BotoCoreError, ClientError
    from tenacity import Retrying, retry_if_exception, stop_after_attempt

    def before_sleep(state):
        if on_retry:
            on_retry(state.attempt_number, state.next_action.sleep)

    try:
        for attempt in Retrying(
            before_sleep=before_sleep,
            retry=retry_if_exception(is_throttling),
            wait=throttle_wait(),
            stop=stop or stop_after_attempt(THROTTLE_ATTEMPTS),
            reraise=True,
        ):
            with attempt:
                return fn(**kwargs)
    except ClientError as exc:
        if missing(exc) if callable(missing) else error_code(exc) in missing:
            return None
        if is_throttling(exc):
            raise Throttled(f"{what}: {describe(exc)}") from exc
        raise failure(exc, what) from exc
    except BotoCoreError as exc:
        raise failure(exc, what) from exc


def session(settings):
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=settings.profile, region_name=settings.region)
    except ProfileNotFound as exc:
        raise BadInput(
            f"AWS profile {settings.profile!r} not found: check --profile or AWS_PROFILE "
            "(`aws configure list-profiles` lists them)"
        ) from exc


NO_REGION = (
    "no AWS region set: give --region, set AWS_REGION, or run `aws configure set region <region>`"
)


def client(aws_session, service: str):
    from botocore.config import Config
    from botocore.exceptions import NoRegionError

    # botocore retries network errors and 5xx itself; throttling is retried by `call` above,
    # so let botocore try each request only a few times.
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 3}, user_agent_appid="elt-cli"
    )
    try:
        return aws_session.client(service, config=config)
    except NoRegionError as exc:
        raise BadInput(NO_REGION) from exc


def describe(exc: BaseException) -> str:
    """One line for an AWS error, with its code; never credentials or signed URLs."""
    code = error_code(exc)
    message = getattr(exc, "response", {}).get("Error", {}).get("Message", "") or str(exc)
    message = " ".join(message.split())
    return f"{code}: {message}" if code else message


def failure(exc: BaseException, what: str) -> EltError:
    """What the user reads for an AWS error: what was being done, the cause, the fix."""
    from botocore import exceptions as e

    if isinstance(exc, (e.NoCredentialsError, e.PartialCredentialsError)):
        return BadInput(
            f"{what}: no AWS credentials found: set AWS_PROFILE (or --profile) to a configured "
            "profile, run `aws configure`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, e.NoRegionError):
        return BadInput(f"{what}: {NO_REGION}")
    if isinstance(exc, (e.EndpointConnectionError, e.ConnectTimeoutError, e.ReadTimeoutError)):
        where = getattr(exc, "kwargs", {}).get("endpoint_url", "AWS")
        return EltError(
            f"{what}: cannot reach {where}: check the network connection, --region and "
            "AWS_ENDPOINT_URL"
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
