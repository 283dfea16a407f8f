"""Captures the requests the official alibabacloud-gpdb20160503 SDK sends for fixed inputs, for the Swift test that
checks our client builds and signs the same requests (Tests/VectorJobsTests/Fixtures/sdk-requests.json).

Run: python3 tests/generate_sdk_vectors.py > Tests/VectorJobsTests/Fixtures/sdk-requests.json
Nothing is sent anywhere: the SDK's transport is replaced by a recorder that answers with a canned body."""
import io
import json
import sys

from alibabacloud_gpdb20160503 import models
from alibabacloud_gpdb20160503.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from darabonba.core import DaraCore, DaraResponse

captured = []


class Recorded(Exception):
    pass


def record(request, runtime_option=None):
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    captured.append({
        "method": request.method, "query": dict(request.query or {}), "headers": dict(request.headers),
        "body": (body or b"").decode(),
    })
    raise Recorded()


DaraCore.do_action = staticmethod(record)


def client(signature="v3", token=None):
    config = open_api_models.Config(access_key_id="testid", access_key_secret="testsecret", security_token=token,
                                    region_id="cn-hangzhou", endpoint="gpdb.aliyuncs.com")
    if signature == "v1":
        config.signature_algorithm = "v2"  # the SDK's name for the HMAC-SHA1 (V1) signature
    return Client(config)


CASES = []


def case(name, inputs, make):
    CASES.append((name, inputs, make))


case("UploadDocumentAsync", {
    "collection": "kb", "namespace": "ns1", "namespace_password": "p@ss w*rd~", "file_url": "https://example.com/docs/a b.md",
    "file_name": "a b.md", "chunk_size": 700, "chunk_overlap": 70, "document_loader_name": "UnstructuredMarkdownLoader",
    "text_splitter_name": "RecursiveCharacterTextSplitter", "separators": ["\n\n", "。", " "],
    "metadata": {"source": "wiki", "year": 2024, "tags": ["a", "ü"], "nested": {"k": True}},
    "zh_title_enhance": False, "vl_enhance": True, "splitter_model": "qwen-plus", "dry_run": True,
}, lambda c, i: c.upload_document_async(models.UploadDocumentAsyncRequest(
    dbinstance_id="gp-test123", region_id="cn-hangzhou", collection=i["collection"], namespace=i["namespace"],
    namespace_password=i["namespace_password"], file_url=i["file_url"], file_name=i["file_name"], chunk_size=i["chunk_size"],
    chunk_overlap=i["chunk_overlap"], document_loader_name=i["document_loader_name"], text_splitter_name=i["text_splitter_name"],
    separators=i["separators"], metadata=i["metadata"], zh_title_enhance=i["zh_title_enhance"], vl_enhance=i["vl_enhance"],
    splitter_model=i["splitter_model"], dry_run=i["dry_run"])))

case("UploadDocumentAsync minimal", {
    "collection": "kb", "namespace_password": "pw", "file_url": "https://example.com/r.csv", "file_name": "r.csv",
}, lambda c, i: c.upload_document_async(models.UploadDocumentAsyncRequest(
    dbinstance_id="gp-test123", region_id="cn-hangzhou", collection=i["collection"], namespace_password=i["namespace_password"],
    file_url=i["file_url"], file_name=i["file_name"])))

ROWS = [
    {"Id": "r1", "Metadata": {"title": "héllo wörld", "n": "1", "zh": "向量"}, "Vector": [0.1, -0.25, 3.0, 1e-05]},
    {"Id": "r 2", "Metadata": {}, "SparseVector": {"Indices": [1, 7], "Values": [0.5, 0.25]}, "Vector": [1, 2, 3, 4]},
]


def sdk_rows(rows):
    out = []
    for r in rows:
        row = models.UpsertCollectionDataRequestRows(id=r["Id"], metadata=r.get("Metadata"), vector=r["Vector"])
        if "SparseVector" in r:
            row.sparse_vector = models.UpsertCollectionDataRequestRowsSparseVector(indices=r["SparseVector"]["Indices"],
                                                                                  values=r["SparseVector"]["Values"])
        out.append(row)
    return out


case("UpsertCollectionData", {"collection": "docs", "namespace": "ns1", "namespace_password": "pw", "rows": ROWS},
     lambda c, i: c.upsert_collection_data(models.UpsertCollectionDataRequest(
         dbinstance_id="gp-test123", region_id="cn-hangzhou", collection=i["collection"], namespace=i["namespace"],
         namespace_password=i["namespace_password"], rows=sdk_rows(i["rows"]))))

case("DeleteCollectionData by ids", {"collection": "docs", "namespace_password": "pw", "ids": ["r1", "r 2"]},
     lambda c, i: c.delete_collection_data(models.DeleteCollectionDataRequest(
         dbinstance_id="gp-test123", region_id="cn-hangzhou", collection=i["collection"], namespace_password=i["namespace_password"],
         collection_data=json.dumps({"id": i["ids"]}, separators=(",", ":"), ensure_ascii=False))))

case("DeleteCollectionData by filter", {"collection": "docs", "namespace": "ns1", "namespace_password": "pw",
                                        "collection_data_filter": "year < 2020 AND title = 'a b'"},
     lambda c, i: c.delete_collection_data(models.DeleteCollectionDataRequest(
         dbinstance_id="gp-test123", region_id="cn-hangzhou", collection=i["collection"], namespace=i["namespace"],
         namespace_password=i["namespace_password"], collection_data_filter=i["collection_data_filter"])))

out = []
for signature in ("v3", "v1"):
    for token in (None, "STS.token-123"):
        for name, inputs, make in CASES:
            captured.clear()
            try:
                make(client(signature, token), inputs)
            except Exception:  # the SDK wraps the recorder's exception; what it sent is in `captured`
                if not captured:
                    raise
            request = captured[0]
            out.append({"name": name, "signature": signature, "security_token": token, "inputs": inputs, **request})
json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
sys.stdout.write("\n")
