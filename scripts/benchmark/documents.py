"""scripts/bench-documents: a 20 MB upload and download stream; the memory they take.

Not a timed test: it measures what one request holds in Python memory at its peak
(tracemalloc, from just before the request to its end) and how far the process's peak
resident size (ru_maxrss) grew, for an upload of a 20 MB file and its download. The
request body is read from a file and the download is consumed chunk by chunk, so neither
side of the measurement holds the 20 MB itself. The issue's budget: under 50 MB above idle.

    scripts/bench-documents [--mb 20] [--store local|s3] [--api]   (s3: CRM_S3_* from the env)
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from werkzeug.test import EnvironBuilder  # noqa: E402

from crm import create_app  # noqa: E402
from crm.extensions import db  # noqa: E402
from crm.services.seed import seed_reference_data  # noqa: E402
from models import Customer, Document, DocumentKind, Role, User  # noqa: E402

BOUNDARY = "----crm-bench-documents"
MB = 1024 * 1024


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_body(path: Path, size: int, fields: dict[str, object]) -> int:
    """A multipart body with `fields` and one `size`-byte PDF, written to disk in 1 MB pieces."""
    with path.open("wb") as out:
        for name, value in fields.items():
            out.write(
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        out.write(
            (
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
                f'filename="大文件.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
        )
        out.write(b"%PDF-1.7\n")
        left = size - 9
        block = os.urandom(MB)
        while left > 0:
            out.write(block[: min(left, MB)])
            left -= MB
        out.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20)
    parser.add_argument("--store", choices=("local", "s3"), default="local")
    parser.add_argument(
        "--api",
        action="store_true",
        help="through the JSON API (a token, an Idempotency-Key) instead of the upload page",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crm-bench-documents-"))
    overrides = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.sqlite3'}",
        "DOCUMENT_DIR": str(work / "documents"),
        "DOCUMENT_STORE": args.store,
    }
    if args.store == "s3":
        overrides.update(
            {key: os.environ.get(f"CRM_{key}") for key in ("S3_ENDPOINT", "S3_BUCKET")}
            | {key: os.environ.get(f"CRM_{key}") for key in ("S3_ACCESS_KEY", "S3_SECRET_KEY")}
        )
    app = create_app("testing", **overrides)
    with app.app_context():
        db.create_all()
        seed_reference_data()
        user = User(
            username="bench",
            display_name="Bench",
            email="bench@example.com",
            password_hash="-",
            session_token="bench-token",
            role=Role.MANAGER,
        )
        customer = Customer(name="压测客户", owner=user)
        db.session.add_all([user, customer])
        db.session.commit()
        kind_id = db.session.scalar(select(DocumentKind.id).where(DocumentKind.code == "other"))
        body = work / "body.bin"
        if args.api:
            fields: dict[str, object] = {"customer_id": customer.id, "kind": "other"}
        else:
            fields = {"kind_id": kind_id}
        length = write_body(body, int(args.mb * MB), fields)

        client = app.test_client()
        # Signed in as tests/conftest.py's `login` does: a sign-in row and Flask-Login's keys.
        from flask_login.utils import _create_identifier

        from crm.auth import SIGN_IN_KEY
        from crm.services.people.sessions import start_session

        with app.test_request_context(environ_base=client.environ_base):
            identifier = _create_identifier()
        key = start_session(user)
        db.session.commit()
        with client.session_transaction() as session:
            session.update(
                {"_user_id": user.get_id(), "_fresh": True, "_id": identifier, SIGN_IN_KEY: key}
            )
        headers = {}
        if args.api:
            from crm.services.people import tokens

            made = tokens.create_token(
                actor=user, name="bench", scope="read_write", lifetime_days=7
            )
            db.session.commit()
            # The key makes the upload's fingerprint read the file (in chunks) as well.
            headers = {"Authorization": f"Bearer {made.secret}", "Idempotency-Key": "bench-20mb"}
            client.get("/api/v1/documents/kinds", headers=headers)  # warm, as the page below
        client.get("/")  # warm: templates compiled, the app's caches filled
        idle_rss = max_rss_mb()

        with body.open("rb") as stream:
            builder = EnvironBuilder(
                path="/api/v1/documents/" if args.api else f"/customers/{customer.id}/documents",
                method="POST",
                headers=headers,
                input_stream=stream,
                content_length=length,
                content_type=f"multipart/form-data; boundary={BOUNDARY}",
            )
            tracemalloc.start()
            response = client.open(builder)
            _, upload_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            builder.close()
        if args.api:
            assert response.status_code == 201, (response.status_code, response.get_data())
        else:
            assert response.status_code == 302 and "/customers/" in response.location, (
                response.status_code,
                response.location,
            )
        upload_rss = max_rss_mb()
        document = db.session.scalars(select(Document)).one()

        tracemalloc.start()
        url = f"/documents/{document.id}/file/1"
        if args.api:
            url = f"/api/v1/documents/{document.id}/versions/1/file"
        download = client.get(url, headers=headers, buffered=False)
        received = 0
        for chunk in download.response:
            received += len(chunk)
        download.close()
        _, download_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert received == document.versions[0].size, (received, document.versions[0].size)
        download_rss = max_rss_mb()

    print(f"file: {args.mb:g} MB, store: {args.store}, {'the API' if args.api else 'the pages'}")
    print(
        f"upload:   Python peak {upload_peak / MB:6.1f} MB, process peak RSS +"
        f"{upload_rss - idle_rss:6.1f} MB over idle ({idle_rss:.0f} MB)"
    )
    print(
        f"download: Python peak {download_peak / MB:6.1f} MB, process peak RSS +"
        f"{download_rss - idle_rss:6.1f} MB over idle"
    )
    budget = 50
    worst = max(upload_peak, download_peak) / MB
    print(f"budget {budget} MB above idle: {'within' if worst < budget else 'OVER'}")


if __name__ == "__main__":
    main()
