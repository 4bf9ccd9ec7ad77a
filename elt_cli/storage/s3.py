"""The lake on S3: list, delete under owned prefixes, server-side copy and checked move."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from elt_cli import aws
from elt_cli.errors import BadInput, EltError
from elt_cli.storage.base import DeleteGuard, FileStat, is_hidden

NOT_FOUND = ("404", "NoSuchKey", "NotFound")


@dataclass(frozen=True)
class Versioned:
    text: str
    etag: str
    age: float  # seconds since it was last written, by S3's clock


def split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class S3Storage:
    def __init__(self, may_delete: DeleteGuard, settings, client=None):
        self.may_delete = may_delete
        self.s3 = client or aws.client(aws.session(settings), "s3")

    def _call(self, method: str, what: str, **kwargs):
        return aws.call(getattr(self.s3, method), what, **kwargs)

    def _objects(self, prefix: str):
        bucket, key = split(prefix)
        token = None
        while True:
            page = self._call(
                "list_objects_v2",
                f"cannot list {prefix}",
                Bucket=bucket,
                Prefix=key,
                **({"ContinuationToken": token} if token else {}),
            )
            yield from page.get("Contents", [])
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return

    def list_files(self, prefix: str) -> list[str]:
        return [f.uri for f in self.stat_files(prefix)]

    def stat_files(self, prefix: str) -> list[FileStat]:
        bucket, key = split(prefix)
        found = []
        for obj in self._objects(prefix):
            relative = obj["Key"][len(key) :]
            if obj["Key"].endswith("/") or any(is_hidden(p) for p in relative.split("/") if p):
                continue  # folder markers, _SUCCESS, .hidden: Athena skips them too
            modified = obj["LastModified"].timestamp()
            found.append(FileStat(f"s3://{bucket}/{obj['Key']}", obj["Size"], modified))
        return sorted(found, key=lambda f: f.uri)

    def open_read(self, uri: str, first: int | None = None) -> BinaryIO:
        bucket, key = split(uri)
        ranged = {"Range": f"bytes=0-{first - 1}"} if first else {}
        answer = self._call("get_object", f"cannot read {uri}", Bucket=bucket, Key=key, **ranged)
        return answer["Body"]

    def _head(self, uri: str) -> dict | None:
        bucket, key = split(uri)
        return self._call(
            "head_object", f"cannot read {uri}", missing=NOT_FOUND, Bucket=bucket, Key=key
        )

    def delete_prefix(self, prefix: str) -> int:
        if not prefix.endswith("/") or not self.may_delete(prefix):
            raise EltError(f"refusing to delete {prefix}: not under a prefix elt owns")
        bucket, _ = split(prefix)
        keys = [obj["Key"] for obj in self._objects(prefix)]
        self._delete(bucket, keys, f"cannot delete under {prefix}")
        return len(keys)

    def delete_files(self, uris: list[str]) -> None:
        """Delete these files (each one elt may delete), a request per bucket and 1,000."""
        by_bucket: dict[str, list[str]] = {}
        for uri in uris:
            if not self.may_delete(uri):
                raise EltError(f"refusing to delete {uri}: not a file elt owns")
            bucket, key = split(uri)
            by_bucket.setdefault(bucket, []).append(key)
        for bucket, keys in by_bucket.items():
            self._delete(bucket, keys, f"cannot delete query result files in s3://{bucket}")

    def _delete(self, bucket: str, keys: list[str], what: str) -> None:
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            answer = self._call(
                "delete_objects", what, Bucket=bucket, Delete={"Objects": batch, "Quiet": True}
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise EltError(
                    f"cannot delete s3://{bucket}/{first['Key']}: "
                    f"{first.get('Code')}: {first.get('Message')}"
                )

    def copy(self, src: str, dst: str) -> None:
        """Server-side copy (multipart above 5 GB), then check the copy is whole."""
        src_bucket, src_key = split(src)
        dst_bucket, dst_key = split(dst)
        source = self._head(src)
        if source is None:
            raise EltError(f"cannot copy {src}: it does not exist")
        self._call(
            "copy",
            f"cannot copy {src} to {dst}",
            CopySource={"Bucket": src_bucket, "Key": src_key},
            Bucket=dst_bucket,
            Key=dst_key,
        )
        copied = self._head(dst)
        if copied is None or copied["ContentLength"] != source["ContentLength"]:
            raise EltError(f"copy of {src} to {dst} is incomplete; the source was kept")

    def move(self, src: str, dst: str) -> None:
        """Copy, check, then delete the source: an S3 object is replaced whole or not at all."""
        if not self.may_delete(src):
            raise EltError(f"refusing to move {src}: not under a prefix elt owns")
        self.copy(src, dst)
        self.delete(src)

    def download(self, uri: str, local_path: Path) -> None:
        bucket, key = split(uri)
        self._call(
            "download_file",
            f"cannot read {uri}",
            Bucket=bucket,
            Key=key,
            Filename=str(local_path),
        )

    def put_file(self, local_path: Path, uri: str) -> None:
        bucket, key = split(uri)
        self._call(
            "upload_file",
            f"cannot upload {local_path} to {uri}",
            Filename=str(local_path),
            Bucket=bucket,
            Key=key,
        )

    def read_text(self, uri: str) -> str | None:
        found = self.read_versioned(uri)
        return found.text if found else None

    def read_versioned(self, uri: str) -> Versioned | None:
        """The object's text, ETag and age, or None if there is none."""
        from email.utils import parsedate_to_datetime

        bucket, key = split(uri)
        answer = self._call(
            "get_object", f"cannot read {uri}", missing=NOT_FOUND, Bucket=bucket, Key=key
        )
        if answer is None:
            return None
        # S3's clock on both sides: the client's may be off by minutes
        now = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
        age = (parsedate_to_datetime(now) - answer["LastModified"]).total_seconds() if now else 0
        return Versioned(answer["Body"].read().decode("utf-8"), answer["ETag"], max(0.0, age))

    def write_text(self, uri: str, text: str) -> None:
        bucket, key = split(uri)
        self._call(
            "put_object", f"cannot write {uri}", Bucket=bucket, Key=key, Body=text.encode("utf-8")
        )

    def check_conditional_writes(self) -> None:
        """The lake's lock needs S3 conditional writes (If-None-Match, If-Match), which
        botocore knows from 1.35.69 on; an older one fails every write with a
        ParamValidationError, so say so before anything starts."""
        import botocore

        members = self.s3.meta.service_model.operation_model("PutObject").input_shape.members
        if not {"IfNoneMatch", "IfMatch"} <= set(members):
            raise BadInput(
                f"botocore {botocore.__version__} cannot make the S3 conditional writes the "
                "lake's lock needs: pip install --upgrade 'boto3>=1.35.69'"
            )

    def put_if(self, uri: str, text: str, etag: str | None = None) -> str | None:
        """Conditional write: only if no object is there (etag None) or it still has `etag`.
        The new object's ETag; None when another writer got there first."""
        bucket, key = split(uri)
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        answer = self._call(
            "put_object",
            f"cannot write {uri}",
            missing=("PreconditionFailed", "ConditionalRequestConflict", "412", "409"),
            Bucket=bucket,
            Key=key,
            Body=text.encode("utf-8"),
            **condition,
        )
        return None if answer is None else answer["ETag"]

    def delete(self, uri: str) -> None:
        if not self.may_delete(uri):
            raise EltError(f"refusing to delete {uri}: not under a prefix elt owns")
        bucket, key = split(uri)
        self._call("delete_object", f"cannot delete {uri}", Bucket=bucket, Key=key)

    def fingerprint(self, prefix: str) -> str:
        """Changes when any object under `prefix` is added, removed or rewritten."""
        import hashlib

        bucket, key = split(prefix)
        entries = [
            f"{o['Key']}\t{o['Size']}\t{o['ETag']}"
            for o in self._objects(prefix)
            if not is_hidden(o["Key"].rsplit("/", 1)[-1])
        ]
        return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()
