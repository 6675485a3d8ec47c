"""Documents: upload, versions, download and preview headers, type sniffing, size limit,
soft delete and retention, scope before and after a handover, the handover preview count
and the timeline entry."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from crm.extensions import db
from crm.services.documents import cleanup, library
from crm.services.documents.storage import current_store
from crm.services.handover.transfer import HandoverOptions, Selection, hand_over, preview
from models import AuditAction, AuditEntry, Document, DocumentKind, DocumentVersion
from models.base import utcnow

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<<>>\n%%EOF\n"
SCRIPT = b"#!/bin/sh\nrm -rf ~\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def png(size=(400, 300), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def docx(main="wordprocessingml.document.main+xml") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/word/document.xml" ContentType="application/'
            f'vnd.openxmlformats-officedocument.{main}"/></Types>',
        )
        package.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.fixture(autouse=True)
def english(request):
    """The pages in English, so the tests read the messages as written."""
    if "org" in request.fixturenames:
        for user in request.getfixturevalue("org").values():
            if hasattr(user, "locale"):
                user.locale = "en"
        db.session.commit()


@pytest.fixture
def app_overrides(tmp_path):
    return {"DOCUMENT_DIR": str(tmp_path / "documents")}


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org["m1"], name="华东电力集团")


def kind(code: str) -> DocumentKind:
    return db.session.scalar(select(DocumentKind).where(DocumentKind.code == code))


def upload(client, url, *files, kind_code="proposal", title=""):
    fields = MultiDict(
        [("kind_id", str(kind(kind_code).id)), ("title", title)]
        + [("files", FileStorage(io.BytesIO(content), filename=name)) for name, content in files]
    )
    # Encoded here, in memory: the test client spools a large body to a file it never closes.
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def documents() -> list[Document]:
    db.session.expire_all()
    return list(db.session.scalars(select(Document).order_by(Document.id)))


def test_upload_versions_download_and_preview(client, login, org, customer, make_opportunity):
    opportunity = make_opportunity(customer)
    login(client, org["m1"])
    url = f"/opportunities/{opportunity.id}/documents"
    response = upload(client, url, ("方案 v1.pdf", PDF), title="华东电力方案")
    assert response.status_code == 302, response.get_data(as_text=True)
    (document,) = documents()
    assert (document.title, document.kind.code, document.opportunity_id) == (
        "华东电力方案",
        "proposal",
        opportunity.id,
    )
    assert document.customer_id == customer.id and document.current_version == 1

    second = PDF.replace(b"Catalog", b"Catalog/V2")
    response = client.post(
        f"/documents/{document.id}/versions",
        data={"file": (io.BytesIO(second), "方案 v2.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get(f"/documents/{document.id}").get_data(as_text=True)
    assert page.index("方案 v2.pdf") < page.index("方案 v1.pdf")  # newest first
    assert "M1" in page  # who

    v1 = client.get(f"/documents/{document.id}/file/1")
    assert v1.status_code == 200 and v1.data == PDF
    assert v1.headers["Content-Type"] == "application/pdf"
    assert v1.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E6%96%B9%E6%A1%88%20v1.pdf" in v1.headers["Content-Disposition"]
    assert v1.headers["X-Content-Type-Options"] == "nosniff"
    assert v1.headers["Content-Security-Policy"].startswith("sandbox")
    assert client.get(f"/documents/{document.id}/file/2").data == second
    preview_response = client.get(f"/documents/{document.id}/file/2?inline=1")
    assert preview_response.headers["Content-Disposition"].startswith("inline;")
    assert client.get(f"/documents/{document.id}/file/3").status_code == 404

    opportunity_page = client.get(f"/opportunities/{opportunity.id}").get_data(as_text=True)
    assert "华东电力方案" in opportunity_page
    assert library.has_document(opportunity, "proposal")
    assert not library.has_document(opportunity, "contract")


def test_several_files_at_once_each_a_document_with_a_thumbnail(client, login, org, customer):
    login(client, org["m1"])
    response = upload(
        client,
        f"/customers/{customer.id}/documents",
        ("site-1.png", png()),
        ("site-2.png", png(color=(0, 0, 200))),
        kind_code="site_photo",
    )
    assert response.status_code == 302
    first, second = documents()
    assert (first.title, second.title) == ("site-1", "site-2")
    version = first.versions[0]
    assert version.content_type == "image/png" and version.thumbnail_key
    thumbnail = client.get(f"/documents/{first.id}/thumbnail/1")
    assert thumbnail.status_code == 200 and thumbnail.headers["Content-Type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumbnail.data)).size) <= 320
    # An image may be previewed inline.
    inline = client.get(f"/documents/{first.id}/file/1?inline=1")
    assert inline.headers["Content-Disposition"].startswith("inline;")


def test_the_same_bytes_are_stored_once(client, login, org, customer):
    login(client, org["m1"])
    url = f"/customers/{customer.id}/documents"
    upload(client, url, ("a.pdf", PDF))
    upload(client, url, ("b.pdf", PDF))
    assert len(documents()) == 2
    keys = [key for key, _ in current_store().list_keys()]
    assert len(keys) == 1


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("offer.pdf", SCRIPT),  # a script renamed .pdf
        ("drawing.svg", SVG),
        ("macro.docx", docx("wordprocessingml.document.macroEnabled.main+xml")),
        ("page.html", b"<html><script>alert(1)</script></html>"),
        ("empty.pdf", b""),
    ],
)
def test_types_off_the_list_are_refused(client, login, org, customer, name, content):
    login(client, org["m1"])
    response = upload(client, f"/customers/{customer.id}/documents", (name, content))
    assert response.status_code == 400
    assert name in response.get_data(as_text=True)
    assert documents() == []
    assert list(current_store().list_keys()) == []


def test_office_files_are_recognised_by_their_content(client, login, org, customer):
    login(client, org["m1"])
    response = upload(client, f"/customers/{customer.id}/documents", ("报价单.docx", docx()))
    assert response.status_code == 302
    (document,) = documents()
    assert document.versions[0].content_type.endswith("wordprocessingml.document")
    served = client.get(f"/documents/{document.id}/file/1?inline=1")
    assert served.headers["Content-Disposition"].startswith("attachment;")  # never inline


def test_one_refused_file_refuses_the_whole_upload(client, login, org, customer):
    login(client, org["m1"])
    response = upload(
        client, f"/customers/{customer.id}/documents", ("ok.pdf", PDF), ("bad.pdf", SCRIPT)
    )
    assert response.status_code == 400
    assert documents() == []
    assert list(current_store().list_keys()) == []


def test_a_form_without_a_file_says_so(client, login, org, customer):
    login(client, org["m1"])
    response = client.post(
        f"/customers/{customer.id}/documents",
        data={"kind_id": str(kind("other").id)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Choose at least one file to upload." in response.get_data(as_text=True)


@pytest.mark.parametrize("app_overrides", [{"MAX_DOCUMENT_MB": 0.01}])
def test_a_file_over_the_limit_answers_413_with_a_message(
    client, login, org, customer, app_overrides, tmp_path
):
    from flask import current_app

    current_app.config["DOCUMENT_DIR"] = str(tmp_path / "documents")
    login(client, org["m1"])
    big = PDF + b"0" * 20_000
    response = upload(client, f"/customers/{customer.id}/documents", ("big.pdf", big))
    assert response.status_code == 413
    assert "larger than 0.01 MB" in response.get_data(as_text=True)
    assert documents() == []
    # A request far over the limit is cut off before it is read, with the same message.
    huge = PDF + b"0" * 700_000  # two of them: past ten files' worth and the 1 MB margin
    response = upload(client, f"/customers/{customer.id}/documents", *[("h.pdf", huge)] * 2)
    assert response.status_code == 413
    assert "A file may be at most 0.01 MB" in response.get_data(as_text=True), response.get_data(
        as_text=True
    )


def test_rename_change_kind_and_soft_delete_are_audited(client, login, org, customer):
    login(client, org["m1"])
    upload(client, f"/customers/{customer.id}/documents", ("合同.pdf", PDF))
    (document,) = documents()
    response = client.post(
        f"/documents/{document.id}/edit",
        data={
            "title": "正式合同",
            "kind_id": str(kind("contract").id),
            "version": document.version,
        },
    )
    assert response.status_code == 302
    (document,) = documents()
    assert (document.title, document.kind.code) == ("正式合同", "contract")
    response = client.post(f"/documents/{document.id}/delete", data={"confirmed": "1"})
    assert response.status_code == 302
    (document,) = documents()
    assert document.deleted_at is not None and document.deleted_by_id == org["m1"].id
    assert client.get(f"/documents/{document.id}").status_code == 404
    assert client.get(f"/documents/{document.id}/file/1").status_code == 404
    assert "正式合同" not in client.get(f"/customers/{customer.id}").get_data(as_text=True)
    actions = db.session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.entity_type == "documents")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [AuditAction.CREATE, AuditAction.UPDATE, AuditAction.DELETE]


def test_retention_purges_deleted_documents_and_their_objects(client, login, org, customer):
    login(client, org["m1"])
    url = f"/customers/{customer.id}/documents"
    upload(client, url, ("kept.pdf", PDF))
    upload(client, url, ("gone.png", png()))
    kept, gone = documents()
    client.post(f"/documents/{gone.id}/delete", data={"confirmed": "1"})
    store = current_store()
    assert len(list(store.list_keys())) == 3  # the pdf, the png and its thumbnail
    days = cleanup.retention_days()
    # Within the retention period nothing goes.
    assert cleanup.purge_deleted(utcnow() + timedelta(days=days - 1)) == 0
    assert cleanup.purge_deleted(utcnow() + timedelta(days=days + 1)) == 1
    cleanup.remove_orphans(utcnow() + timedelta(hours=2))
    db.session.commit()
    assert [d.id for d in documents()] == [kept.id]
    assert [key for key, _ in store.list_keys()] == [kept.versions[0].blob_key]


def test_an_object_no_row_uses_is_removed_by_the_orphan_job(app, org, customer):
    """A failed commit leaves an object behind at worst: the orphan job removes it."""
    store = current_store()
    key = store.put(io.BytesIO(b"left behind by a crashed commit"))
    assert cleanup.remove_orphans(utcnow()) == 0  # younger than an hour: an upload in flight
    assert store.exists(key)
    # A half-received upload of a killed worker goes too.
    store.incoming.mkdir(parents=True, exist_ok=True)
    (store.incoming / "upload-killed").write_bytes(b"half an upload")
    assert cleanup.remove_orphans(utcnow() + timedelta(hours=2)) == 1
    assert not store.exists(key)
    assert list(store.incoming.iterdir()) == []


def test_a_rolled_back_upload_leaves_no_object(app, org, customer):
    library.upload(
        customer=customer,
        actor=org["m1"],
        uploads=[library.Upload(io.BytesIO(png()), "photo.png")],
        kind_id=kind("site_photo").id,
    )
    assert len(list(current_store().list_keys())) == 2
    db.session.rollback()  # the commit failed
    assert list(current_store().list_keys()) == []
    assert db.session.scalar(select(func.count(DocumentVersion.id))) == 0


def test_out_of_scope_documents_and_files_answer_404(client, login, org, customer, make_customer):
    login(client, org["m1"])
    upload(client, f"/customers/{customer.id}/documents", ("a.png", png()))
    (document,) = documents()
    urls = (
        f"/documents/{document.id}",
        f"/documents/{document.id}/file/1",
        f"/documents/{document.id}/thumbnail/1",
    )
    for user, status in ((org["m2"], 404), (org["m3"], 404), (org["sup2"], 404)):
        login(client, user)
        for url in urls:
            assert client.get(url).status_code == status, (user.username, url)
        response = client.post(f"/documents/{document.id}/delete", data={"confirmed": "1"})
        assert response.status_code == 404
    for user in (org["sup1"], org["admin"]):
        login(client, user)
        for url in urls:
            assert client.get(url).status_code == 200, (user.username, url)
    assert documents()[0].deleted_at is None


def test_after_a_handover_the_new_owner_has_the_documents_and_the_old_one_not(
    client, login, org, customer
):
    login(client, org["m1"])
    upload(client, f"/customers/{customer.id}/documents", ("a.pdf", PDF), ("b.png", png()))
    first, _second = documents()
    options = HandoverOptions()
    shown = preview(
        actor=org["sup1"],
        selection=Selection(ids=[customer.id]),
        to_owner=org["m2"],
        options=options,
    )
    assert shown.documents == 2
    hand_over(
        actor=org["sup1"],
        selection=Selection(ids=[customer.id]),
        to_owner=org["m2"],
        options=options,
        note="m1 moves to another region",
        token="documents-handover",
        expected_fingerprint=None,
    )
    db.session.commit()
    assert client.get(f"/documents/{first.id}/file/1").status_code == 404
    login(client, org["m2"])
    assert client.get(f"/documents/{first.id}/file/1").status_code == 200


def test_uploads_appear_on_the_customer_timeline(client, login, org, customer, make_visit):
    visit = make_visit(customer)
    login(client, org["m1"])
    response = upload(
        client, f"/visits/{visit.id}/documents", ("机房.png", png()), kind_code="site_photo"
    )
    assert response.status_code == 302
    assert "机房" in client.get(f"/visits/{visit.id}").get_data(as_text=True)
    page = client.get(f"/customers/{customer.id}/timeline?kinds=document").get_data(as_text=True)
    assert "机房" in page


def test_admins_edit_document_kinds(client, login, org):
    login(client, org["admin"])
    response = client.post(
        "/admin/document-kinds/new",
        data={"code": "survey", "name_zh": "勘察报告", "name_en": "Survey report"},
    )
    assert response.status_code == 302
    survey = kind("survey")
    assert survey.name_en == "Survey report"
    client.post(f"/admin/document-kinds/{survey.id}/retire", data={"confirmed": "1"})
    db.session.expire_all()
    assert not kind("survey").active
    login(client, org["m1"])
    assert client.get("/admin/document-kinds").status_code == 403


@pytest.mark.parametrize(
    "app_overrides", [{"MAX_CONTENT_LENGTH": 1024 * 1024, "WTF_CSRF_ENABLED": True}]
)
def test_uploads_may_exceed_the_apps_request_limit_with_csrf_on(
    client, login, org, customer, app_overrides, tmp_path
):
    """The upload routes raise the request limit before the CSRF check reads the body."""
    import re

    from flask import current_app

    current_app.config["DOCUMENT_DIR"] = str(tmp_path / "documents")
    login(client, org["m1"])
    page = client.get(f"/customers/{customer.id}/documents").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    fields = MultiDict(
        [
            ("csrf_token", token),
            ("kind_id", str(kind("other").id)),
            ("files", FileStorage(io.BytesIO(PDF + b"0" * 2_000_000), filename="big.pdf")),
        ]
    )
    boundary, body = encode_multipart(fields)
    response = client.post(
        f"/customers/{customer.id}/documents",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 302, response.status_code
    assert len(documents()) == 1
    # Elsewhere the app's limit holds.
    response = client.post("/language", data=body, content_type="multipart/form-data")
    assert response.status_code == 413
