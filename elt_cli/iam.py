"""The least IAM policy `elt` needs on AWS, for the effective settings (`elt iam-policy`).

Each statement is there for a call elt (or Athena on its behalf) makes:

- Athena: start, check, read and stop queries, and read the workgroup's settings, in that
  workgroup; GetDatabase in the data catalog (ensure-db).
- Glue: the database and its tables (external tables, CTAS versions, views), and the old
  versions Glue keeps of a view, pruned after each publish. Athena's
  fine-grained access page: access to the `default` database "must be present" for
  GetDatabase, GetDatabases and CreateDatabase.
- S3, each prefix with only what elt does there: read the raw files; read, write and delete
  under the prefixes elt owns (table versions, export staging, run state and lock); read,
  write and delete query results (Athena writes them as the caller; elt reads the export's,
  then deletes the files its queries left); write the
  final files and read them back to check a copy is whole (HeadObject needs s3:GetObject).
"""

from __future__ import annotations

from elt_cli.layout import as_prefix
from elt_cli.storage.s3 import split

OBJECT_WRITE = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]


def _object_arns(*uris: str) -> list[str]:
    """`s3://bucket/prefix/` -> `arn:aws:s3:::bucket/prefix/*`; a key is kept as it is."""
    arns = []
    for uri in uris:
        bucket, key = split(uri)
        arns.append(
            f"arn:aws:s3:::{bucket}/{key}*"
            if key.endswith("/") or not key
            else f"arn:aws:s3:::{bucket}/{key}"
        )
    return arns


def policy(
    settings,
    *,
    raw: list[str],
    finals: list[str],
    exact: bool,
    workgroup_output: str | None = None,
    kms_keys: list[str] | None = None,
    sample_data: bool = False,
    lake_formation: bool = False,
) -> dict:
    """The policy document. `raw`: the job's raw file prefixes; `finals`: its final files,
    named `exact`ly (parameter values given) or as patterns with `*`; `workgroup_output`: the
    result location of a workgroup that enforces its settings (Athena then writes CTAS data
    under its tables/)."""
    region = settings.region or "*"
    layout = settings.layout
    lake_bucket, _ = split(settings.lake)
    results = workgroup_output or settings.results
    results_bucket, _ = split(results)
    athena = f"arn:aws:athena:{region}:*"
    glue = f"arn:aws:glue:{region}:*"
    db = settings.database
    owned = list(layout.owned())
    if workgroup_output:
        owned.append(as_prefix(workgroup_output) + "tables/")
    statements = [
        {
            "Sid": "AthenaQueries",
            "Effect": "Allow",
            "Action": [
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:BatchGetQueryExecution",
                "athena:GetQueryResults",
                "athena:StopQueryExecution",
                "athena:GetWorkGroup",
            ],
            "Resource": f"{athena}:workgroup/{settings.workgroup}",
        },
        {
            "Sid": "AthenaCatalog",
            "Effect": "Allow",
            "Action": ["athena:GetDatabase"],
            "Resource": f"{athena}:datacatalog/AwsDataCatalog",
        },
        {
            "Sid": "GlueDefaultDatabase",
            "Effect": "Allow",
            "Action": ["glue:GetDatabase", "glue:GetDatabases", "glue:CreateDatabase"],
            "Resource": [f"{glue}:catalog", f"{glue}:database/default"],
        },
        {
            "Sid": "GlueJobTables",
            "Effect": "Allow",
            "Action": [
                "glue:GetDatabase",
                "glue:CreateDatabase",
                "glue:GetTable",
                "glue:GetTables",
                "glue:CreateTable",
                "glue:UpdateTable",
                "glue:DeleteTable",
                "glue:GetPartitions",
                "glue:GetTableVersions",
                "glue:BatchDeleteTableVersion",
            ],
            "Resource": [f"{glue}:catalog", f"{glue}:database/{db}", f"{glue}:table/{db}/*"],
        },
        {
            "Sid": "S3ListBuckets",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": sorted({f"arn:aws:s3:::{lake_bucket}", f"arn:aws:s3:::{results_bucket}"}),
        },
        {
            "Sid": "S3ReadRawData",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": _object_arns(*raw),
        },
        {
            "Sid": "S3OwnedPrefixes",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:DeleteObject", *OBJECT_WRITE],
            "Resource": _object_arns(*owned),
        },
        {
            "Sid": "S3QueryResults",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:DeleteObject", *OBJECT_WRITE],
            "Resource": _object_arns(as_prefix(results)),
        },
        {
            "Sid": "S3FinalFiles",
            "Effect": "Allow",
            "Action": ["s3:GetObject", *OBJECT_WRITE],
            "Resource": _object_arns(*finals),
        },
    ]
    if not exact:
        # `<prefix>/*/*-movies.csv` also matches keys inside the raw prefixes: never write there.
        statements.append(
            {
                "Sid": "S3NeverWriteRawData",
                "Effect": "Deny",
                "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": _object_arns(*raw),
            }
        )
    if sample_data:
        statements.append(
            {
                "Sid": "S3WriteSampleData",
                "Effect": "Allow",
                "Action": OBJECT_WRITE,
                "Resource": _object_arns(*raw),
            }
        )
        statements = [s for s in statements if s["Sid"] != "S3NeverWriteRawData"]
    if kms_keys:
        statements.append(
            {
                "Sid": "KmsEncryptedData",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": sorted(kms_keys),
            }
        )
    if lake_formation:
        # On an account whose data Lake Formation governs, Athena gets S3 credentials for each
        # table from Lake Formation on the caller's behalf; the action takes no resource
        # (lf-permissions-reference.html). The grants themselves are Lake Formation's: README.
        statements.append(
            {
                "Sid": "LakeFormationDataAccess",
                "Effect": "Allow",
                "Action": ["lakeformation:GetDataAccess"],
                "Resource": "*",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
