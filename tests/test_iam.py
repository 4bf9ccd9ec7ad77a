"""The IAM policy `elt iam-policy` prints, proven under IAM enforcement.

moto checks every request's signature and its IAM user's policies when IAM is enforced: S3
actions against each object's ARN (made as strict as AWS for DeleteObjects and CopyObject by
moto_athena.strict_s3_permissions), other services against `Resource: "*"` only, so the
Athena and Glue statements are widened to "*" here. Athena's own S3 reads and writes (the raw
files, query results, CTAS data) are checked as the caller's by moto_athena.AthenaRules.
"""

from __future__ import annotations

import contextlib
import json

import boto3
import pytest
from support import last_line

FINAL_KEY = "movielens/sci_fi/sci_fi-movies.csv"
HEADER = ["movie_id", "title", "year", "avg_rating", "num_ratings"]
RESULTS = [
    ("SELECT genre", [["genre", "films"], ["Sci-Fi", "10"]]),
    ("SELECT movie_id, title, year", [HEADER, ["9", "Alien", "1979", "3.75", "2"]]),
]
S3_STATEMENTS = [
    "S3ListBuckets",
    "S3ReadRawData",
    "S3OwnedPrefixes",
    "S3QueryResults",
    "S3FinalFiles",
]


@contextlib.contextmanager
def iam_enforced(url: str):
    """What moto's /moto-api/reset-auth does, done in this process, where its server runs."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    previous = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = 0, 0
    try:
        yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = previous


def printed_policy(elt, *args) -> dict:
    result = elt("--lake", "s3://lake", "iam-policy", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def for_moto(policy: dict, without: str | None = None) -> dict:
    """moto checks non-S3 actions against Resource "*" only; one statement left out."""
    statements = []
    for statement in policy["Statement"]:
        if statement["Sid"] == without:
            continue
        if not statement["Action"][0].startswith("s3:"):
            statement = {**statement, "Resource": "*"}
        statements.append(statement)
    return {**policy, "Statement": statements}


@pytest.fixture
def user(aws, monkeypatch):
    """An IAM user whose keys elt runs with; `user(policy)` gives it exactly that policy."""
    iam = boto3.client("iam", endpoint_url=aws.url, region_name="us-east-1")
    iam.create_user(UserName="etl")
    keys = iam.create_access_key(UserName="etl")["AccessKey"]

    def give(policy: dict) -> None:
        iam.put_user_policy(UserName="etl", PolicyName="elt", PolicyDocument=json.dumps(policy))
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["SecretAccessKey"])

    return give


@pytest.mark.slow
def test_the_printed_policy_runs_sample_data_and_run_end_to_end(elt, aws, user, moto_url):
    aws.results = RESULTS
    user(for_moto(printed_policy(elt, "--sample-data")))
    with iam_enforced(moto_url):
        sample = elt("--lake", "s3://lake", "sample-data", "--movies", "200", "--ratings", "500")
        assert sample.exit_code == 0, sample.output
        run = elt("--lake", "s3://lake", "run", "--genre", "Sci-Fi")
        assert run.exit_code == 0, run.output
        again = elt("--lake", "s3://lake", "run", "--genre", "Sci-Fi")  # clean-up deletes too
        assert again.exit_code == 0, again.output
    assert (
        aws.get(FINAL_KEY) == b"movie_id,title,year,avg_rating,num_ratings\n9,Alien,1979,3.75,2\n"
    )


def test_a_wrong_secret_is_refused(elt, aws, user, moto_url, monkeypatch):
    user(for_moto(printed_policy(elt)))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with iam_enforced(moto_url):
        result = elt("--lake", "s3://lake", "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1
    assert "SignatureDoesNotMatch" in last_line(result)


@pytest.mark.parametrize("missing", S3_STATEMENTS)
@pytest.mark.slow
def test_each_s3_statement_is_needed_and_its_absence_is_one_clean_line(
    elt, s3_lake, aws, user, moto_url, missing
):
    aws.results = RESULTS
    policy = printed_policy(elt)
    user(for_moto(policy))
    with iam_enforced(moto_url):
        assert elt("--lake", s3_lake, "run", "--genre", "Sci-Fi").exit_code == 0
    new = b"userId,movieId,rating,timestamp\n7,9,1.0,1\n"
    aws.put("movielens/ratings/more.csv", new)  # so that the next run builds again
    before = {k: aws.get(k) for k in aws.keys() if not k.startswith(("_elt/", "athena-results/"))}
    user(for_moto(policy, without=missing))
    with iam_enforced(moto_url):
        result = elt("--lake", s3_lake, "run", "--genre", "Sci-Fi")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    line = last_line(result)
    assert "denied" in line.lower() and "s3://lake" in line, line
    # nothing lost: the raw files and the published CSV are as they were
    for key in ("movielens/movies/movies.csv", "movielens/ratings/more.csv", FINAL_KEY):
        assert aws.get(key) == before[key]


def test_the_policy_names_final_files_exactly_when_given_genres(elt, aws):
    policy = printed_policy(elt, "--genre", "Sci-Fi", "--genre", "Film-Noir")
    (finals,) = [s for s in policy["Statement"] if s["Sid"] == "S3FinalFiles"]
    assert finals["Resource"] == [
        "arn:aws:s3:::lake/movielens/sci_fi/sci_fi-movies.csv",
        "arn:aws:s3:::lake/movielens/film_noir/film_noir-movies.csv",
    ]
    assert "S3NeverWriteRawData" not in {s["Sid"] for s in policy["Statement"]}


def test_the_pattern_for_final_files_is_fenced_off_the_raw_data(elt, aws):
    policy = printed_policy(elt)
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Resource"] == [
        "arn:aws:s3:::lake/movielens/movies/*",
        "arn:aws:s3:::lake/movielens/ratings/*",
    ]


def test_the_policy_follows_an_enforcing_workgroup_and_its_kms_key(elt, aws):
    aws.enforcing_workgroup(
        "s3://results-bucket/etl/",
        EncryptionConfiguration={"EncryptionOption": "SSE_KMS", "KmsKey": "arn:k"},
    )
    result = elt("--lake", "s3://lake", "--workgroup", "etl", "iam-policy")
    assert result.exit_code == 0, result.output
    policy = json.loads(result.stdout)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["S3QueryResults"]["Resource"] == ["arn:aws:s3:::results-bucket/etl/*"]
    assert "arn:aws:s3:::results-bucket/etl/tables/*" in by_sid["S3OwnedPrefixes"]["Resource"]
    assert by_sid["S3ListBuckets"]["Resource"] == [
        "arn:aws:s3:::lake",
        "arn:aws:s3:::results-bucket",
    ]
    assert by_sid["KmsEncryptedData"]["Resource"] == ["arn:k"]
    assert by_sid["AthenaQueries"]["Resource"] == "arn:aws:athena:*:*:workgroup/etl"


def test_lake_formation_adds_get_data_access_and_nothing_else(elt, aws):
    """On a Lake Formation account Athena fetches each table's S3 credentials with the
    caller's lakeformation:GetDataAccess, which takes no resource (lf-permissions-reference)."""
    plain = printed_policy(elt)
    governed = printed_policy(elt, "--lake-formation")
    assert governed["Statement"][:-1] == plain["Statement"]
    assert governed["Statement"][-1] == {
        "Sid": "LakeFormationDataAccess",
        "Effect": "Allow",
        "Action": ["lakeformation:GetDataAccess"],
        "Resource": "*",
    }


def test_iam_policy_needs_an_s3_lake(elt, tmp_path):
    result = elt("--lake", tmp_path, "iam-policy")
    assert result.exit_code == 2
    assert last_line(result) == (
        "Error: iam-policy is for an s3:// lake on Athena: give --lake s3://bucket[/prefix]"
    )
