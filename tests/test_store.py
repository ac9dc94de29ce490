"""The byte stores behave the same on local disk and on a real S3 endpoint."""

from __future__ import annotations

import pytest

from pipelines.errors import ConfigError, LakeConflict, LakeDamaged, UnsafeKey
from pipelines.store import LocalStore, S3Store, key_part, lake_url_from_env, open_store


def test_write_read_list_delete(lake_url):
    store = open_store(lake_url)
    store.check(writable=True)
    store.write("a/b/one.bin", b"1")
    store.write("a/b/two.json", b"2")
    store.write("a/c.txt", b"3")
    store.write("ab/other", b"4")
    assert store.read("a/b/one.bin") == b"1"
    assert store.exists("a/c.txt") and not store.exists("a/missing")
    assert sorted(store.list("a/")) == ["a/b/one.bin", "a/b/two.json", "a/c.txt"]
    # A prefix is a string prefix, as on S3, not only a folder.
    assert sorted(store.list("a/b/t")) == ["a/b/two.json"]
    assert sorted(store.list("a")) == ["a/b/one.bin", "a/b/two.json", "a/c.txt", "ab/other"]
    store.write("a/c.txt", b"replaced")
    assert store.read("a/c.txt") == b"replaced"
    store.delete("a/c.txt")
    store.delete("a/c.txt")  # deleting twice is fine
    with pytest.raises(KeyError):
        store.read("a/c.txt")


def test_conditional_writes_and_deletes_swap_only_the_version_read(lake_url):
    store = open_store(lake_url)
    store.check(writable=True)
    created = store.write_if("p/data", b"first", None)
    with pytest.raises(LakeConflict):
        store.write_if("p/data", b"again", None)  # create-only: it exists
    data, version = store.read_versioned("p/data")
    assert (data, version) == (b"first", created)
    other = open_store(lake_url)  # another run: swaps it under the first one
    newer = other.write_if("p/data", b"second", version)
    with pytest.raises(LakeConflict):
        store.write_if("p/data", b"lost update", version)
    with pytest.raises(LakeConflict):
        store.delete_if("p/data", version)
    assert store.read("p/data") == b"second"
    store.delete_if("p/data", newer)
    assert not store.exists("p/data")
    with pytest.raises(LakeConflict):
        store.delete_if("p/data", newer)  # gone: not the version read


def test_local_write_leaves_no_temporary_files(tmp_path):
    store = LocalStore(tmp_path)
    for i in range(3):
        store.write("t/data.parquet", bytes([i]))
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["data.parquet"]
    assert list((tmp_path / ".tmp").iterdir()) == []


def test_local_delete_removes_empty_partition_folders(tmp_path):
    store = LocalStore(tmp_path)
    store.write("reports/province=1/year=2/data.parquet", b"x")
    store.delete("reports/province=1/year=2/data.parquet")
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize(
    ("url", "kind", "location"),
    [
        ("./lake", LocalStore, "lake"),
        ("file:///srv/lake", LocalStore, "/srv/lake"),
        ("s3://bucket/some/prefix", S3Store, "some/prefix"),
        ("s3://bucket", S3Store, ""),
    ],
    ids=["relative-path", "file-url", "s3-prefix", "s3-bucket-root"],
)
def test_open_store_by_url(url, kind, location):
    store = open_store(url)
    assert isinstance(store, kind)
    if kind is S3Store:
        assert store.bucket == "bucket" and store.prefix == location
    else:
        assert str(store.root).endswith(location)


@pytest.mark.parametrize(
    "url", ["ftp://host/lake", "gs://bucket/lake", "s3:///nobucket", "file://otherhost/lake"],
    ids=["ftp", "gcs", "s3-without-bucket", "file-with-host"],
)
def test_unsupported_lake_urls_say_what_to_use(url):
    with pytest.raises(ConfigError, match=r"s3://bucket|file:///"):
        open_store(url)


def test_lake_url_precedence(monkeypatch):
    monkeypatch.setenv("GOVREPORTS_LAKE", "s3://env/lake")
    assert lake_url_from_env("explicit") == "explicit"
    assert lake_url_from_env(None) == "s3://env/lake"
    monkeypatch.delenv("GOVREPORTS_LAKE")
    assert lake_url_from_env(None) == "./lake"


def test_s3_missing_bucket_is_a_config_error(aws_env):
    with pytest.raises(ConfigError, match="bucket 'no-such-bucket' does not exist"):
        open_store("s3://no-such-bucket/lake").check(writable=True)


def test_s3_missing_credentials_is_a_config_error(aws_env, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ConfigError, match="no AWS credentials"):
        open_store("s3://any-bucket/lake").check(writable=True)


# Keys that would leave the lake or alias another object: refused by the store itself,
# whoever built them, before anything is read, written, listed or deleted.
_UNSAFE_KEYS = {
    "parent": "../outside",
    "parent-inside": "a/../../x",
    "dot-parent": "./../../x",
    "only-parent": "..",
    "dot": "a/./b",
    "absolute": "/etc/passwd",
    "empty": "",
    "empty-part": "a//b",
    "trailing-slash": "a/b/",
    "backslash": "a\\..\\b",
    "nul": "a/b\x00c",
    "newline": "a/b\nc",
    "long-part": "a/" + "x" * 256,
    "long-key": "/".join(["y" * 200] * 6),
}
_OPERATIONS = {
    "read": lambda store, key: store.read(key),
    "read_versioned": lambda store, key: store.read_versioned(key),
    "write": lambda store, key: store.write(key, b"x"),
    "write_if": lambda store, key: store.write_if(key, b"x", None),
    "delete": lambda store, key: store.delete(key),
    "delete_if": lambda store, key: store.delete_if(key, "v"),
    "exists": lambda store, key: store.exists(key),
}


@pytest.mark.parametrize("operation", list(_OPERATIONS.values()), ids=list(_OPERATIONS))
@pytest.mark.parametrize("key", list(_UNSAFE_KEYS.values()), ids=list(_UNSAFE_KEYS))
def test_the_store_refuses_keys_that_leave_the_lake(lake_url, tmp_path, key, operation):
    outside = tmp_path / "outside"
    outside.write_bytes(b"not the lake's")
    store = open_store(lake_url)
    store.check(writable=True)
    with pytest.raises(UnsafeKey) as refused:
        operation(store, key)
    assert "refused" in str(refused.value) and "\n" not in str(refused.value)
    assert outside.read_bytes() == b"not the lake's"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "lake") == ["outside"]


@pytest.mark.parametrize("prefix", ["../", "a/../", "/abs", "a//", "..", "\x00"],
                         ids=["parent", "parent-inside", "absolute", "empty-part", "only-parent",
                              "nul"])
def test_the_store_refuses_listing_outside_the_lake(lake_url, prefix):
    store = open_store(lake_url)
    store.check(writable=True)
    with pytest.raises(UnsafeKey):
        list(store.list(prefix))


@pytest.mark.parametrize("prefix", ["", "a/", "a/b", "_runs/2026"],
                         ids=["everything", "folder", "partial-name", "run-prefix"])
def test_listing_prefixes_stay_usable(lake_url, prefix):
    store = open_store(lake_url)
    store.check(writable=True)
    store.write("a/b.txt", b"1")
    store.write("_runs/20260101.json", b"2")
    assert all(key.startswith(prefix) for key in store.list(prefix))


@pytest.mark.parametrize(
    ("value", "why"),
    [("a/b", "'/'"), ("..", "'..'"), (".", "'.'"), ("", "empty"), ("x" * 300, "255 bytes"),
     ("a\x00", "control")],
    ids=["separator", "parent", "dot", "empty", "too-long", "nul"])
def test_an_id_is_one_plain_part_of_a_key(value, why):
    with pytest.raises(UnsafeKey) as refused:
        key_part(value, "portal id")
    assert why in str(refused.value) and "portal id" in str(refused.value)
    assert key_part("nightly-2026-12-06T00_00_00", "batch") == "nightly-2026-12-06T00_00_00"


def test_a_folder_where_an_object_belongs_is_named(tmp_path):
    store = LocalStore(tmp_path)
    (tmp_path / "_lease" / "load.json").mkdir(parents=True)
    with pytest.raises(LakeDamaged, match="is a folder"):
        store.read("_lease/load.json")
    with pytest.raises(KeyError):  # a parent that is a file: simply no such object
        store.write("f", b"1") or store.read("f/g")


@pytest.mark.parametrize("link", ["_work/b", "_work", "rejects/x.json"],
                         ids=["batch-folder", "work-folder", "one-object"])
def test_a_symbolic_link_in_a_local_lake_does_not_lead_outside_it(tmp_path, link):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "plan.json").write_bytes(b"someone's")
    lake = tmp_path / "lake"
    (lake / link).parent.mkdir(parents=True, exist_ok=True)
    (lake / link).symlink_to(outside / "plan.json" if link.endswith(".json") else outside)
    store = LocalStore(lake)
    key = link if link.endswith(".json") else f"{link}/plan.json"
    for operation in (store.read, store.delete, lambda k: store.write(k, b"x"), store.exists):
        with pytest.raises(UnsafeKey, match="through a symbolic link"):
            operation(key)
    assert (outside / "plan.json").read_bytes() == b"someone's"
    assert sorted(p.name for p in outside.iterdir()) == ["plan.json"]


def test_a_lake_that_is_itself_a_symbolic_link_works(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "lake").symlink_to(tmp_path / "real")
    store = LocalStore(tmp_path / "lake")
    store.write("a/b.txt", b"1")
    assert store.read("a/b.txt") == b"1" and (tmp_path / "real" / "a" / "b.txt").exists()
