"""Documents over the API: multipart uploads through the web's library (sniffing, size
limit, kinds, versions), a record's documents, the versions, the streamed download with the
web's file headers, soft delete, and the scope of every document URL."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from crm.extensions import db
from crm.services.documents.storage import current_store
from models import Document
from tests.api_support import Multipart, as_user, problem_of, send

URL = "/api/v1/documents/"
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
SCRIPT = b"#!/bin/sh\nrm -rf ~\n"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def english(org):
    for user in org.values():
        if hasattr(user, "locale"):
            user.locale = "en"
    db.session.commit()


@pytest.fixture
def app_overrides(tmp_path):
    return {"DOCUMENT_DIR": str(tmp_path / "documents")}


@pytest.fixture
def m1(org):
    return as_user(org["m1"])


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org["m1"], name="华东电力集团")


def _count() -> int:
    return db.session.scalar(select(func.count(Document.id)))


def _upload(client, headers, **fields):
    return send(client, "POST", URL, headers, Multipart(fields))


def test_several_files_become_documents_of_the_sniffed_types_on_an_opportunity(
    client, m1, customer, make_opportunity
):
    opportunity = make_opportunity(customer)
    response = _upload(
        client,
        m1,
        opportunity_id=str(opportunity.id),
        files=[("方案.pdf", PDF), ("现场.png", png())],
    )
    assert response.status_code == 201, response.get_json()
    made = response.get_json()["items"]
    assert [(d["title"], d["kind"], d["opportunity_id"]) for d in made] == [
        ("方案", "proposal", opportunity.id),  # an opportunity's first kind, as on the web
        ("现场", "proposal", opportunity.id),
    ]
    assert [d["versions"][0]["content_type"] for d in made] == ["application/pdf", "image/png"]
    assert "Location" not in response.headers  # two were made: each has its own
    listed = client.get(URL + f"?opportunity_id={opportunity.id}", headers=m1).get_json()
    assert {d["id"] for d in listed["items"]} == {d["id"] for d in made}
    # The customer's list holds its opportunities' documents too.
    listed = client.get(URL + f"?customer_id={customer.id}", headers=m1).get_json()
    assert len(listed["items"]) == 2 and listed["items"][0]["newest"]["number"] == 1


def test_one_file_takes_the_title_and_kind_and_answers_its_location(client, m1, customer):
    response = _upload(
        client,
        m1,
        customer_id=str(customer.id),
        kind="contract",
        title="2026 框架合同",
        files=("scan.pdf", PDF),
    )
    assert response.status_code == 201, response.get_json()
    (document,) = response.get_json()["items"]
    assert (document["title"], document["kind"]) == ("2026 框架合同", "contract")
    assert response.headers["Location"] == f"/api/v1/documents/{document['id']}"


def test_the_librarys_refusals_hold_over_the_api_and_store_nothing(client, m1, customer):
    target = {"customer_id": str(customer.id)}
    problem = problem_of(_upload(client, m1, **target, files=("offer.pdf", SCRIPT)), 422)
    assert problem["errors"] == [
        {
            "field": "files",
            "location": "json",
            "message": "offer.pdf is not a type of file the CRM keeps (PDF, JPEG, PNG, WebP, "
            "HEIC, Word, Excel or PowerPoint). Nothing was uploaded.",
        }
    ]
    problem = problem_of(_upload(client, m1, **target), 422)
    assert problem["errors"][0]["message"] == "Choose at least one file to upload."
    problem = problem_of(_upload(client, m1, **target, kind="nosuch", files=("a.pdf", PDF)), 422)
    assert problem["errors"][0]["field"] == "kind"
    problem = problem_of(_upload(client, m1, files=("a.pdf", PDF)), 422)
    assert problem["errors"][0]["field"] == "customer_id"
    assert _count() == 0 and list(current_store().list_keys()) == []


@pytest.mark.parametrize("app_overrides", [{"MAX_DOCUMENT_MB": 0.01}])
def test_a_file_over_the_size_limit_answers_413_with_the_webs_message(
    client, m1, customer, app_overrides, tmp_path
):
    from flask import current_app

    current_app.config["DOCUMENT_DIR"] = str(tmp_path / "documents")
    big = PDF + b"0" * 20_000
    problem = problem_of(
        _upload(client, m1, customer_id=str(customer.id), files=("big.pdf", big)), 413
    )
    assert problem["errors"][0]["field"] == "files"
    assert "big.pdf is larger than 0.01 MB" in problem["detail"]
    # A request far over the limit is cut off before it is read (before the token is, so
    # in the request's language), with the web's message.
    huge = PDF + b"0" * 700_000
    headers = {**m1, "Accept-Language": "en"}
    problem = problem_of(
        _upload(client, headers, customer_id=str(customer.id), files=[("h.pdf", huge)] * 2), 413
    )
    assert "A file may be at most 0.01 MB" in problem["detail"]
    assert _count() == 0


def test_versions_are_kept_newest_first_and_each_downloads_streamed(client, m1, customer):
    made = _upload(client, m1, customer_id=str(customer.id), files=("方案.pdf", PDF))
    document_id = made.get_json()["items"][0]["id"]
    second = PDF.replace(b"Catalog", b"Catalog/V2")
    response = send(
        client, "POST", f"{URL}{document_id}/versions", m1, Multipart(file=("方案v2.pdf", second))
    )
    assert response.status_code == 201, response.get_json()
    assert response.headers["Location"] == f"/api/v1/documents/{document_id}/versions/2/file"
    record = client.get(f"{URL}{document_id}", headers=m1).get_json()
    assert [v["number"] for v in record["versions"]] == [2, 1]
    assert record["current_version"] == 2
    for version, content in ((1, PDF), (2, second)):
        url = record["versions"][2 - version]["file_url"]
        download = client.get(url, headers=m1)
        assert download.status_code == 200
        assert download.is_streamed and download.data == content
        assert download.mimetype == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Content-Security-Policy"].startswith("sandbox")
    problem_of(client.get(f"{URL}{document_id}/versions/3/file", headers=m1), 404)
    # A version is refused like a first upload.
    problem = problem_of(
        send(client, "POST", f"{URL}{document_id}/versions", m1, Multipart(file=("x.pdf", SCRIPT))),
        422,
    )
    assert problem["errors"][0]["field"] == "file"


def test_a_lost_object_answers_503_not_a_server_error(client, m1, customer):
    made = _upload(client, m1, customer_id=str(customer.id), files=("a.pdf", PDF))
    document = made.get_json()["items"][0]
    for key, _ in list(current_store().list_keys()):
        current_store().delete(key)
    problem_of(client.get(document["versions"][0]["file_url"], headers=m1), 503)


def test_rename_with_a_stale_version_is_refused_with_the_stored_one(client, m1, customer):
    made = _upload(client, m1, customer_id=str(customer.id), files=("a.pdf", PDF))
    document = made.get_json()["items"][0]
    url = f"{URL}{document['id']}"
    renamed = client.patch(
        url, headers=m1, json={"title": "报价单", "version": document["version"]}
    )
    assert renamed.status_code == 200 and renamed.get_json()["title"] == "报价单"
    problem = problem_of(
        client.patch(url, headers=m1, json={"kind": "quotation", "version": document["version"]}),
        409,
    )
    assert problem["current"]["title"] == "报价单" and problem["current"]["kind"] == "other"


def test_delete_is_soft_and_hides_the_document_and_its_files(client, m1, customer):
    made = _upload(client, m1, customer_id=str(customer.id), files=("a.pdf", PDF))
    document = made.get_json()["items"][0]
    assert client.delete(f"{URL}{document['id']}", headers=m1).status_code == 204
    stored = db.session.get(Document, document["id"])
    db.session.refresh(stored)
    assert stored.deleted_at is not None  # kept for the retention period
    problem_of(client.get(f"{URL}{document['id']}", headers=m1), 404)
    problem_of(client.get(document["versions"][0]["file_url"], headers=m1), 404)
    problem_of(client.delete(f"{URL}{document['id']}", headers=m1), 404)
    assert client.get(URL + f"?customer_id={customer.id}", headers=m1).get_json()["items"] == []


def test_other_teams_documents_and_records_are_not_found(client, org, m1, customer):
    made = _upload(client, m1, customer_id=str(customer.id), files=("a.pdf", PDF))
    document = made.get_json()["items"][0]
    outsider = as_user(org["m3"])
    for url in (
        f"{URL}{document['id']}",
        document["versions"][0]["file_url"],
        URL + f"?customer_id={customer.id}",
    ):
        problem_of(client.get(url, headers=outsider), 404)
    problem_of(_upload(client, outsider, customer_id=str(customer.id), files=("b.pdf", PDF)), 404)
    # The supervisor of the owner's team sees it (the customer's scope).
    assert client.get(f"{URL}{document['id']}", headers=as_user(org["sup1"])).status_code == 200


def test_a_retried_upload_with_the_same_key_makes_one_document(client, m1, customer):
    headers = {**m1, "Idempotency-Key": "upload-1"}
    body = Multipart(customer_id=str(customer.id), files=("a.pdf", PDF))
    first = send(client, "POST", URL, headers, body)
    again = send(client, "POST", URL, headers, body)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() and _count() == 1
    other = Multipart(customer_id=str(customer.id), files=("a.pdf", PDF + b"%changed"))
    problem_of(send(client, "POST", URL, headers, other), 422)
    assert _count() == 1


def test_the_kinds_are_listed_with_their_codes(client, m1):
    kinds = client.get(URL + "kinds", headers=m1).get_json()["items"]
    assert {"proposal", "contract", "site_photo", "other"} <= {k["code"] for k in kinds}
