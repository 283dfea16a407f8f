"""The official vikingdb-python-sdk against `vectorjobs emulate`: Ping, upsert, update, fetch, delete, with AK/SK
signing and with an API key; a wrong secret is refused with the API's envelope."""
import json
import subprocess

import pytest
from vikingdb import APIKey, IAM
from vikingdb.vector import VikingDB
from vikingdb.vector.exceptions import VikingVectorException

from conftest import BIN

COLLECTIONS = {"collections": [
    {"name": "demo_coll", "resource_id": "vdb-res-123", "primary_key": "id", "primary_key_type": "int64",
     "fields": {"id": "int64", "vec": "vector", "tag": "string", "score": "float32"}, "dimension": 3},
    {"name": "docs", "primary_key": "doc_id", "primary_key_type": "string", "fields": {"doc_id": "string", "title": "string"}},
]}


@pytest.fixture
def viking(tmp_path):
    config = tmp_path / "collections.json"
    config.write_text(json.dumps(COLLECTIONS))
    proc = subprocess.Popen([BIN, "emulate", "--port", "0", "--data-dir", str(tmp_path / "emu"), "--viking-collections", str(config),
                             "--access-key-id", "AKLTTEST", "--access-key-secret", "VIKINGSECRET==", "--api-key", "vk-test-key"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = json.loads(proc.stdout.readline())["port"]
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.parametrize("auth", ["aksk", "apikey"])
def test_sdk_round_trip(viking, auth):
    credentials = IAM(ak="AKLTTEST", sk="VIKINGSECRET==") if auth == "aksk" else APIKey(api_key="vk-test-key")
    client = VikingDB(host=viking, region="cn-beijing", auth=credentials, scheme="http")  # pings on construction
    coll = client.collection(collection_name="demo_coll")
    coll.upsert({"data": [{"id": 1, "vec": [0.1, 0.2, 0.3], "tag": "a"}, {"id": 2, "vec": [1, 2, 3], "tag": "b", "score": 0.5}], "ttl": 3600})
    coll.update({"data": [{"id": 1, "tag": "changed"}]})
    fetched = coll.fetch({"ids": [1, 2, 3]})
    rows = {item.id: item.fields for item in fetched.result.items}
    assert rows[1]["tag"] == "changed" and rows[1]["vec"] == [0.1, 0.2, 0.3] and rows[2]["score"] == 0.5
    assert fetched.result.ids_not_exist == [3]
    by_resource = client.collection(resource_id="vdb-res-123")
    by_resource.delete({"ids": [2]})
    assert [i.id for i in coll.fetch({"ids": [1, 2]}).result.items] == [1]
    docs = client.collection(collection_name="docs")
    docs.upsert({"data": [{"doc_id": "d-1", "title": "向量 数据"}]})
    assert docs.fetch({"ids": ["d-1"]}).result.items[0].fields["title"] == "向量 数据"


def test_a_wrong_secret_is_refused_with_the_envelope(viking):
    client = VikingDB(host=viking, region="cn-beijing", auth=IAM(ak="AKLTTEST", sk="wrong"), scheme="http")
    with pytest.raises(VikingVectorException) as refused:
        client.collection(collection_name="demo_coll").upsert({"data": [{"id": 5, "vec": [1, 2, 3]}]})
    assert refused.value.code == "SignatureDoesNotMatch" and refused.value.request_id != "unknown"


def test_invalid_rows_are_refused(viking):
    client = VikingDB(host=viking, region="cn-beijing", auth=APIKey(api_key="vk-test-key"), scheme="http")
    coll = client.collection(collection_name="demo_coll")
    for bad in ([{"id": 0, "vec": [1, 2, 3]}], [{"id": 4, "vec": [1, 2]}], [{"id": 4, "vec": [1, 2, 3], "nope": 1}],
                [{"id": i, "vec": [1, 2, 3]} for i in range(1, 102)]):
        with pytest.raises(VikingVectorException) as refused:
            coll.upsert({"data": bad})
        assert refused.value.code == "InvalidParameter"
    with pytest.raises(VikingVectorException) as missing:
        client.collection(collection_name="nope").upsert({"data": [{"id": 1}]})
    assert missing.value.code == "NotFound.VikingdbCollection"
