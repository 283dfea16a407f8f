"""The official alibabacloud-gpdb20160503 SDK against `vectorjobs emulate` (an independent check of the emulator,
and so of what our own client must speak)."""
import http.server
import json
import os
import threading
import time

import pytest
from alibabacloud_gpdb20160503 import models
from alibabacloud_gpdb20160503.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util.models import RuntimeOptions
from darabonba.core import DaraCore

from conftest import Emulator, write_vectors

_original_do_action = DaraCore.do_action


def _plain_http_for_oss(request, runtime_option=None):
    """The SDK posts to OSS over HTTPS unconditionally; the emulator speaks plain HTTP on loopback, reached as the
    SDK's HTTP proxy. This is the only change made to the SDK's requests."""
    if request.headers.get("host", "").endswith(".aliyuncs.com") and ".oss-" in request.headers.get("host", ""):
        request.protocol = "HTTP"
    return _original_do_action(request, runtime_option)


DaraCore.do_action = staticmethod(_plain_http_for_oss)


@pytest.fixture(autouse=True)
def _no_proxy_leaks():
    yield
    os.environ.pop("HTTP_PROXY", None)


def sdk(emu, secret="testsecret", key_id="testid", token=None, signature=None):
    # The SDK's OpenPlatform client (local-file flow) takes neither the configured proxy nor endpoint; it does
    # read HTTP_PROXY, so the emulator answers for openplatform.aliyuncs.com and the OSS bucket host as a proxy.
    os.environ["HTTP_PROXY"] = f"http://127.0.0.1:{emu.port}"
    os.environ.pop("NO_PROXY", None)
    os.environ.pop("no_proxy", None)
    config = open_api_models.Config(
        access_key_id=key_id, access_key_secret=secret, security_token=token, region_id="cn-hangzhou",
        endpoint=f"127.0.0.1:{emu.port}", protocol="http", open_platform_endpoint=f"127.0.0.1:{emu.port}",
        http_proxy=f"http://127.0.0.1:{emu.port}",
    )
    if signature:
        config.signature_version = signature
    return Client(config)


def serve_directory(directory):
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(directory), **k)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(client, job_id, collection, password="pw", timeout=60):
    deadline = time.time() + timeout
    while True:
        job = client.get_upsert_collection_data_job(models.GetUpsertCollectionDataJobRequest(
            dbinstance_id="gp-sdk", region_id="cn-hangzhou", collection=collection, namespace_password=password,
            job_id=job_id)).body.job
        if job.completed or time.time() > deadline:
            return job
        time.sleep(0.2)


def test_upsert_from_file_url(tmp_path, emulator):
    write_vectors(tmp_path / "web.jsonl", 500)
    web = serve_directory(tmp_path)
    try:
        client = sdk(emulator)
        submitted = client.upsert_collection_data_async(models.UpsertCollectionDataAsyncRequest(
            dbinstance_id="gp-sdk", region_id="cn-hangzhou", collection="docs", namespace_password="pw",
            file_url=f"http://127.0.0.1:{web.server_address[1]}/web.jsonl")).body
        assert submitted.status == "success" and submitted.job_id
        job = wait_for(client, submitted.job_id, "docs")
        assert job.status == "Success" and job.progress == 500 and job.completed
    finally:
        web.shutdown()


def test_upsert_advance_from_a_local_file(tmp_path, emulator):
    path = write_vectors(tmp_path / "local.jsonl", 1500)
    client = sdk(emulator)
    with open(path, "rb") as f:
        submitted = client.upsert_collection_data_async_advance(models.UpsertCollectionDataAsyncAdvanceRequest(
            dbinstance_id="gp-sdk", region_id="cn-hangzhou", collection="local", namespace_password="pw",
            file_url_object=f), RuntimeOptions()).body
    assert submitted.job_id
    job = wait_for(client, submitted.job_id, "local")
    assert job.status == "Success" and job.progress == 1500
    assert emulator.state()["requests"]["PostObject"] == 1


def test_cancel_a_paced_job(tmp_path):
    emu = Emulator(tmp_path / "paced", pace=500)
    try:
        path = write_vectors(tmp_path / "slow.jsonl", 5000)
        client = sdk(emu)
        with open(path, "rb") as f:
            job_id = client.upsert_collection_data_async_advance(models.UpsertCollectionDataAsyncAdvanceRequest(
                dbinstance_id="gp-sdk", region_id="cn-hangzhou", collection="slow", namespace_password="pw",
                file_url_object=f), RuntimeOptions()).body.job_id
        time.sleep(0.5)
        reply = client.cancel_upsert_collection_data_job(models.CancelUpsertCollectionDataJobRequest(
            dbinstance_id="gp-sdk", region_id="cn-hangzhou", collection="slow", namespace_password="pw", job_id=job_id)).body
        assert reply.status == "success"
        job = wait_for(client, job_id, "slow")
        assert job.status == "Cancelled" and job.progress < 5000
        # A second cancel of the finished job is refused with the API's error.
        with pytest.raises(Exception) as refused:
            client.cancel_upsert_collection_data_job(models.CancelUpsertCollectionDataJobRequest(
                dbinstance_id="gp-sdk", region_id="cn-hangzhou", collection="slow", namespace_password="pw", job_id=job_id))
        assert "Job.StatusInvalid" in str(refused.value)
    finally:
        emu.stop()


def test_a_wrong_secret_is_refused_with_the_api_error_body(emulator):
    client = sdk(emulator, secret="not-the-secret")
    with pytest.raises(Exception) as refused:
        client.get_upsert_collection_data_job(models.GetUpsertCollectionDataJobRequest(
            dbinstance_id="gp-sdk", region_id="cn-hangzhou", collection="docs", namespace_password="pw", job_id="x"))
    error = refused.value
    assert error.code == "IncompleteSignature"
    assert error.data["RequestId"] and error.data["HostId"] and error.data["Recommend"]
    assert error.data["statusCode"] == 400


def test_an_unknown_access_key_is_refused(emulator):
    client = sdk(emulator, key_id="nobody")
    with pytest.raises(Exception) as refused:
        client.get_upsert_collection_data_job(models.GetUpsertCollectionDataJobRequest(
            dbinstance_id="gp-sdk", region_id="cn-hangzhou", collection="docs", namespace_password="pw", job_id="x"))
    assert refused.value.code == "InvalidAccessKeyId.NotFound"


SIGNINGS = [("v3", None), ("v1", None), ("v3", "STS.sdk-token"), ("v1", "STS.sdk-token")]


def sdk_with(emu, signature, token):
    client = sdk(emu, token=token)
    if signature == "v1":
        client._signature_algorithm = "v2"  # the SDK's name for HMAC-SHA1 (V1)
    return client


@pytest.mark.parametrize("signature,token", SIGNINGS)
def test_documents_rows_and_deletes_with_every_signing(tmp_path, signature, token):
    emu = Emulator(tmp_path / "emu", token=token)
    web = None
    try:
        client = sdk_with(emu, signature, token)
        doc = tmp_path / "guide.md"
        doc.write_text("# Guide\n\n" + "\n\n".join(f"## Part {i}\n\n" + "lorem ipsum " * 40 for i in range(6)))
        web = serve_directory(tmp_path)
        common = dict(dbinstance_id="gp-sdk", region_id="cn-hangzhou", namespace_password="pw")

        by_url = client.upload_document_async(models.UploadDocumentAsyncRequest(
            collection="kb", file_url=f"http://127.0.0.1:{web.server_address[1]}/guide.md", file_name="guide.md",
            chunk_size=300, chunk_overlap=30, metadata={"source": "web"}, **common)).body
        assert by_url.status == "success" and by_url.job_id
        with open(doc, "rb") as f:
            by_file = client.upload_document_async_advance(models.UploadDocumentAsyncAdvanceRequest(
                collection="kb", file_url_object=f, file_name="guide.md", chunk_size=300, dry_run=True, **common), RuntimeOptions()).body
        for job_id, dry in [(by_url.job_id, False), (by_file.job_id, True)]:
            deadline = time.time() + 30
            while True:
                got = client.get_upload_document_job(models.GetUploadDocumentJobRequest(collection="kb", job_id=job_id, **common)).body
                if got.job.completed or time.time() > deadline:
                    break
                time.sleep(0.1)
            assert got.job.status == "Success" and got.job.progress == 100
            assert got.chunk_result.chunk_file_url.endswith(".jsonl") and got.chunk_result.plain_chunk_file_url.endswith(".txt")
            assert got.usage.embedding_entries == (0 if dry else got.usage.embedding_entries) and (got.usage.embedding_tokens == 0) == dry
        with pytest.raises(Exception) as refused:
            client.cancel_upload_document_job(models.CancelUploadDocumentJobRequest(collection="kb", job_id=by_url.job_id, **common))
        assert "Job.StatusInvalid" in str(refused.value)

        rows = [models.UpsertCollectionDataRequestRows(id=f"r{i}", metadata={"title": f"t{i}", "lang": "中文" if i % 2 else "en"},
                                                         vector=[i, 0.5, -1.0]) for i in range(6)]
        upserted = client.upsert_collection_data(models.UpsertCollectionDataRequest(collection="rows", rows=rows, **common)).body
        assert upserted.status == "success"
        by_ids = client.delete_collection_data(models.DeleteCollectionDataRequest(
            collection="rows", collection_data=json.dumps({"id": ["r0", "r1", "nope"]}), **common)).body
        assert by_ids.applied_rows == 2
        by_filter = client.delete_collection_data(models.DeleteCollectionDataRequest(
            collection="rows", collection_data_filter="lang = '中文'", **common)).body
        assert by_filter.applied_rows == 2  # r3 and r5
    finally:
        if web:
            web.shutdown()
        emu.stop()


def test_cancel_a_pending_document(tmp_path):
    emu = Emulator(tmp_path / "emu", pace=1)
    try:
        client = sdk(emu)
        doc = tmp_path / "long.txt"
        doc.write_text("\n\n".join("paragraph " * 50 for _ in range(50)))
        with open(doc, "rb") as f:
            job_id = client.upload_document_async_advance(models.UploadDocumentAsyncAdvanceRequest(
                dbinstance_id="gp-sdk", region_id="cn-hangzhou", namespace_password="pw", collection="kb", file_url_object=f,
                file_name="long.txt"), RuntimeOptions()).body.job_id
        reply = client.cancel_upload_document_job(models.CancelUploadDocumentJobRequest(
            dbinstance_id="gp-sdk", region_id="cn-hangzhou", namespace_password="pw", collection="kb", job_id=job_id)).body
        assert reply.status == "success"
        got = client.get_upload_document_job(models.GetUploadDocumentJobRequest(
            dbinstance_id="gp-sdk", region_id="cn-hangzhou", namespace_password="pw", collection="kb", job_id=job_id)).body
        assert got.job.status == "Cancelled"
    finally:
        emu.stop()
