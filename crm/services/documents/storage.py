"""The document store: bytes named by their SHA-256, on the local disk or in S3.

One interface, two back ends. `put` streams what it is given into a temporary file in
chunks (a 20 MB upload is never held in memory), hashing as it writes, then moves the
file into place (local) or uploads it (S3): the hash is the key, so the same bytes are
stored once. No name a user typed ever reaches a path or an object key; keys are checked
to be 64 hex digits before they are used.

The back end is chosen by configuration (CRM_DOCUMENT_STORE=local|s3, see crm/config.py)
and built once per app (`current_store()`).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from flask import current_app

CHUNK = 1024 * 1024
KEY = re.compile(r"[0-9a-f]{64}")


class TooLarge(Exception):
    """The stream went past the size limit; nothing was stored."""


class StoreError(Exception):
    """The store could not read or write an object (disk, network, credentials)."""


def check_key(key: str) -> str:
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise ValueError("not a document key")
    return key


def object_name(key: str) -> str:
    """ab/cd/abcd…: two levels of folders keep any one folder small."""
    check_key(key)
    return f"{key[:2]}/{key[2:4]}/{key}"


@dataclass
class Spooled:
    """Bytes received into a temporary file: its path, hash (the key) and size."""

    path: Path
    key: str
    size: int

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def spool(stream: IO[bytes], *, limit: int | None = None, folder: str | None = None) -> Spooled:
    """Copy a stream to a temporary file in chunks, hashing it; TooLarge past `limit` bytes."""
    digest = hashlib.sha256()
    size = 0
    handle, name = tempfile.mkstemp(prefix="upload-", dir=folder)
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if limit is not None and size > limit:
                    raise TooLarge(size)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Spooled(path=path, key=digest.hexdigest(), size=size)


class Store(Protocol):
    """What every back end offers. Keys are SHA-256 hex digests."""

    def put(self, stream: IO[bytes]) -> str: ...

    def put_file(self, spooled: Spooled) -> bool:
        """Store a spooled file under its key (the file is consumed); True if it was new."""
        ...

    def open(self, key: str) -> IO[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def list_keys(self) -> Iterator[tuple[str, datetime]]:
        """Every stored key with the time it was written (UTC)."""
        ...


class LocalStore:
    """Files under one folder (instance/documents by default): root/ab/cd/<sha256>."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.incoming = self.root / "incoming"

    def _path(self, key: str) -> Path:
        return self.root / object_name(key)

    def spool(self, stream: IO[bytes], limit: int | None = None) -> Spooled:
        # Spooled on the same file system as the store, so putting it is a rename.
        self.incoming.mkdir(parents=True, exist_ok=True)
        return spool(stream, limit=limit, folder=str(self.incoming))

    def put(self, stream: IO[bytes]) -> str:
        spooled = self.spool(stream)
        self.put_file(spooled)
        return spooled.key

    def put_file(self, spooled: Spooled) -> bool:
        target = self._path(spooled.key)
        if target.exists():
            spooled.discard()
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            # os.replace is atomic: a reader sees the whole file or none.
            os.replace(spooled.path, target)
        except OSError:
            shutil.move(str(spooled.path), str(target))
        target.chmod(0o640)
        return True

    def open(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as error:
            raise StoreError(f"no object {key}") from error

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def remove_stale_spools(self, before: datetime) -> int:
        """Remove uploads a killed worker left half-received in incoming/."""
        removed = 0
        if self.incoming.is_dir():
            for path in self.incoming.glob("upload-*"):
                if datetime.fromtimestamp(path.stat().st_mtime, UTC) < before:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    def list_keys(self) -> Iterator[tuple[str, datetime]]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/??/*"):
            if KEY.fullmatch(path.name) and path.is_file():
                yield path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC)


class S3Store:
    """Objects in an S3-compatible bucket (several web hosts share it; none keeps files).

    Uploads go through boto3's managed transfer: read from the spooled file in parts.
    """

    def __init__(
        self,
        *,
        bucket: str,
        endpoint: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        prefix: str = "documents/",
    ) -> None:
        import boto3  # only where S3 is configured: the local store needs no boto3 import
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            region_name=region or "us-east-1",
            config=BotoConfig(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                # SeaweedFS, MinIO and older gateways reject the newer default checksums.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def _name(self, key: str) -> str:
        return self.prefix + object_name(key)

    def _errors(self):
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        return (Boto3Error, BotoCoreError, ClientError)

    def put(self, stream: IO[bytes]) -> str:
        spooled = spool(stream)
        self.put_file(spooled)
        return spooled.key

    def spool(self, stream: IO[bytes], limit: int | None = None) -> Spooled:
        return spool(stream, limit=limit)

    def put_file(self, spooled: Spooled) -> bool:
        try:
            if self.exists(spooled.key):
                return False
            self.client.upload_file(str(spooled.path), self.bucket, self._name(spooled.key))
            return True
        except self._errors() as error:
            raise StoreError(str(error)) from error
        finally:
            spooled.discard()

    def open(self, key: str) -> IO[bytes]:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except self._errors() as error:
            raise StoreError(str(error)) from error

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise StoreError(str(error)) from error
        return True

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        except self._errors() as error:
            raise StoreError(str(error)) from error

    def list_keys(self) -> Iterator[tuple[str, datetime]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"].rsplit("/", 1)[-1]
                if KEY.fullmatch(name):
                    yield name, item["LastModified"].astimezone(UTC)


def store_from_config(config: Any) -> Store:
    """The back end the configuration names (CRM_DOCUMENT_STORE): local (default) or s3."""
    kind = (config.get("DOCUMENT_STORE") or "local").lower()
    if kind == "s3":
        if not config.get("S3_BUCKET"):
            raise RuntimeError("CRM_DOCUMENT_STORE=s3 needs CRM_S3_BUCKET")
        return S3Store(
            bucket=config["S3_BUCKET"],
            endpoint=config.get("S3_ENDPOINT"),
            access_key=config.get("S3_ACCESS_KEY"),
            secret_key=config.get("S3_SECRET_KEY"),
            region=config.get("S3_REGION"),
            prefix=config.get("S3_PREFIX") or "documents/",
        )
    if kind != "local":
        raise RuntimeError(f"CRM_DOCUMENT_STORE must be local or s3, not {kind!r}")
    return LocalStore(config["DOCUMENT_DIR"])


def current_store() -> Store:
    """The app's store, built on first use and kept (a boto3 client is worth reusing)."""
    store = current_app.extensions.get("document_store")
    if store is None:
        store = current_app.extensions["document_store"] = store_from_config(current_app.config)
    return store
