"""Material files in an S3-compatible object store (AWS S3, MinIO, Ceph, Garage, R2...).

The same interface as the instance folder (`storage.MaterialStore`): objects are named
`<prefix><32 random hex digits>`, written in one PUT (an object is whole or absent, never
half-written), read back into a spooled temporary file (`send_file` wants a file-like object
and the connection is freed at once), and swept by their `LastModified` time. boto3 signs the
requests (SigV4), so any service that speaks the S3 API will do.
"""

from __future__ import annotations

import functools
import io
import secrets
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING, Literal

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError

from companion.config import Config
from companion.experts.storage import KEY

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

#: Material read back stays in memory up to this size, beyond it in a temporary file.
SPOOL_BYTES = 1024 * 1024
#: Error codes S3-compatible services give for an object or bucket that is not there.
_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3Store:
    """Objects in one bucket, under an optional prefix, named by random keys."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    def _name(self, key: str) -> str:
        if not KEY.fullmatch(key):
            raise FileNotFoundError(key)
        return self.prefix + key

    def save(self, stream: IO[bytes]) -> str:
        """Upload the stream as a new object and return its key."""
        key = secrets.token_hex(16)
        stream.seek(0)
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=stream)
        return key

    def open(self, key: str) -> IO[bytes]:
        """The object's bytes in a temporary file, for reading (FileNotFoundError if absent)."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise FileNotFoundError(key) from None
            raise
        # Handed to the caller open (send_file closes it): no context manager here.
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        body = answer["Body"]
        try:
            for chunk in body.iter_chunks(64 * 1024):
                spool.write(chunk)
        except BaseException:
            spool.close()
            raise
        finally:
            body.close()
        spool.seek(0)
        return spool

    def delete(self, key: str) -> None:
        """Remove the key's object (nothing if it is gone already)."""
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        except FileNotFoundError:
            return
        except ClientError as exc:
            if _code(exc) not in _MISSING:
                raise

    def keys_older_than(self, moment: datetime) -> Iterator[str]:
        """Keys of the objects under the prefix last written before `moment`."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"][len(self.prefix) :]
                if KEY.fullmatch(key) and item["LastModified"] < moment:
                    yield key

    def check(self) -> None:
        """Raise unless the bucket answers and takes, gives back and removes an object."""
        self.client.head_bucket(Bucket=self.bucket)
        key = self.save(io.BytesIO(b"kollega check"))
        try:
            with self.open(key) as back:
                if back.read() != b"kollega check":
                    raise RuntimeError("the bucket gave back other bytes than were written")
        finally:
            self.delete(key)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def s3_store(config: Config, *, timeout: float = 30.0) -> S3Store:
    """The configured bucket's store (its client is made once per setting and reused)."""
    client = _client(
        config.materials_s3_endpoint,
        config.materials_s3_region,
        config.materials_s3_addressing,
        config.materials_s3_access_key_id,
        config.materials_s3_secret_access_key,
        timeout,
    )
    return S3Store(client, config.materials_s3_bucket, config.materials_s3_prefix)


@functools.lru_cache(maxsize=8)
def _client(
    endpoint: str,
    region: str,
    addressing: Literal["path", "virtual"],
    key_id: str,
    secret: str,
    timeout: float,
) -> S3Client:
    # boto3 clients are thread-safe (sessions are not): one session per client made here.
    session = boto3.session.Session(
        aws_access_key_id=key_id or None,
        aws_secret_access_key=secret or None,
        region_name=region,
    )
    return session.client(
        "s3",
        endpoint_url=endpoint,
        config=BotoConfig(
            signature_version="s3v4",
            s3={"addressing_style": addressing},
            connect_timeout=min(timeout, 10.0),
            read_timeout=timeout,
            retries={"max_attempts": 3, "mode": "standard"},
            # Checksums only where the API demands them: several S3-compatible services
            # refuse the CRC headers newer botocore adds to every upload by default.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )
