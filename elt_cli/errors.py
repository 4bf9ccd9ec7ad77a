"""The project's exceptions. Only cli.py turns them into messages and exit codes."""

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class EltError(Exception):
    """A failure the user can act on; the message is shown as one line."""

    exit_code = EXIT_FAILED


class BadInput(EltError):
    """Bad usage, input or config, found before anything was changed."""

    exit_code = EXIT_USAGE


class TemplateError(BadInput):
    """A job (job.toml or one of its SQL files) is wrong: missing, unknown, or cannot run."""


class ChecksFailed(EltError):
    """A model's new version failed its checks: it was not published, nothing read it."""


class TestsFailed(EltError):
    """Some of a job's test cases (`elt test`) did not give what they expect."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, message: str, outcomes: list):
        super().__init__(message)
        self.outcomes = outcomes


class Throttled(EltError):
    """AWS kept refusing a call for its rate or quota (TooManyRequestsException and kin)."""


class StepFailed(EltError):
    """A step of the workflow failed; names the step and, on Athena, the query."""

    def __init__(self, step: str, reason: str, query_id: str | None = None):
        self.step, self.reason, self.query_id = step, reason, query_id
        where = f" (query {query_id})" if query_id else ""
        super().__init__(f"{step} failed{where}: {reason}")


class QueryFailed(StepFailed):
    """A query the engine ran failed (or was cancelled), with the engine's reason."""


class MalformedRows(QueryFailed):
    """A query met a malformed raw row, which elt's guard refuses (sql.resolve); `file` is
    the raw file it is in."""

    def __init__(self, step: str, reason: str, query_id: str | None, file: str):
        super().__init__(step, reason, query_id)
        self.file = file


class AccessDenied(QueryFailed):
    """Athena was denied what the query needs (an S3 prefix, a Glue table)."""


class Terminated(BaseException):
    """SIGTERM arrived (cron, or Airflow killing the task); unwinds like KeyboardInterrupt."""
