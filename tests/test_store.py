"""The byte stores behave the same on local disk and on a real S3 endpoint."""

from __future__ import annotations

import pytest

from pipelines.errors import ConfigError, LakeConflict
from pipelines.store import LocalStore, S3Store, lake_url_from_env, open_store


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
