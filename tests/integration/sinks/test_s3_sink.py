"""S3 Object Lock sink against moto's server on loopback.

moto confirms here: If-None-Match create-only PUTs (412), compliance-mode retention stored per
object version and reported by HeadObject, refusal to delete a locked version, versioning of
overwrites. moto does NOT enforce (AWS documents them; see docs/audit.md): refusal to shorten
compliance retention or switch it to governance mode, refusal of BypassGovernanceRetention on
compliance objects, the integrity-header requirement on Object Lock PUTs; it does not implement
GetObjectRetention.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from governance.errors import ConfigurationError, Tampered
from governance.sinks.export import cursor_path, export, verify
from governance.sinks.s3 import S3Sink, create_locked_bucket
from tests.support.histories import SyntheticLedger, generate_entries

_n = itertools.count()


@pytest.fixture(scope="module")
def entries() -> list:
    return list(generate_entries(models=3, releases_per_model=3, seed=8))


def _sink(s3, tmp_path: Path, bucket: str | None = None) -> S3Sink:  # type: ignore[no-untyped-def]
    if bucket is None:
        bucket = f"audit-{next(_n)}"
        create_locked_bucket(s3.client, bucket)
    return S3Sink(
        bucket,
        "ledger/",
        30,
        tmp_path / ".governance/export/s3-manifest.jsonl",
        endpoint_url=s3.url,
    )


def test_export_is_create_only_locked_and_pinned(tmp_path: Path, s3, entries) -> None:  # type: ignore[no-untyped-def]
    sink = _sink(s3, tmp_path)
    ledger = SyntheticLedger(entries)
    assert export(tmp_path, ledger, sink, batch=50).exported == len(entries)
    key = sink.key(entries[3].seq, entries[3].event_id)
    head = s3.client.head_object(Bucket=sink.bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    manifest = (tmp_path / ".governance/export/s3-manifest.jsonl").read_text().splitlines()
    assert len(manifest) == len(entries) and '"version_id": null' not in manifest[0]
    # create-only: a second PUT of the key is refused by the store itself
    with pytest.raises(ClientError) as info:
        s3.client.put_object(Bucket=sink.bucket, Key=key, Body=b"{}", IfNoneMatch="*")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    # compliance mode: the locked version cannot be deleted
    version = s3.client.head_object(Bucket=sink.bucket, Key=key)["VersionId"]
    with pytest.raises(ClientError):
        s3.client.delete_object(Bucket=sink.bucket, Key=key, VersionId=version)
    report = verify(tmp_path, ledger, sink)
    assert report.ok, report.to_json()


def test_reexport_is_idempotent(tmp_path: Path, s3, entries) -> None:  # type: ignore[no-untyped-def]
    sink = _sink(s3, tmp_path)
    export(tmp_path, SyntheticLedger(entries[:40]), sink)
    cursor_path(tmp_path, "s3").unlink()
    again = export(tmp_path, SyntheticLedger(entries[:60]), sink)
    assert (again.sent, again.exported) == (60, 20)
    assert verify(tmp_path, SyntheticLedger(entries[:60]), sink).ok


def test_overwrite_and_foreign_objects_are_reported(tmp_path: Path, s3, entries) -> None:  # type: ignore[no-untyped-def]
    sink = _sink(s3, tmp_path)
    ledger = SyntheticLedger(entries[:30])
    export(tmp_path, ledger, sink)
    key = sink.key(entries[5].seq, entries[5].event_id)
    # an unconditional PUT makes a second version (allowed by S3 with versioning)
    forged = (
        s3.client.get_object(Bucket=sink.bucket, Key=key)["Body"]
        .read()
        .replace(b'\\"actor_id\\":\\"', b'\\"actor_id\\":\\"x', 1)
    )  # inside "stored" (an escaped JSON string)
    assert b'\\"actor_id\\":\\"x' in forged
    s3.client.put_object(Bucket=sink.bucket, Key=key, Body=forged)
    s3.client.put_object(Bucket=sink.bucket, Key="ledger/zz-foreign.json", Body=b"not json")
    report = verify(tmp_path, ledger, sink)
    assert not report.ok
    assert any(f"{key}: 2 versions" in p for p in report.other)
    assert [f.event_id for f in report.extra] == ["ledger/zz-foreign.json"]
    assert not report.modified  # the pinned version is still the original
    # without the manifest the newest version is read, and the edit shows as modified
    (tmp_path / ".governance/export/s3-manifest.jsonl").unlink()
    report = verify(tmp_path, ledger, sink)
    assert [f.seq for f in report.modified] == [5]
    with pytest.raises(Tampered, match="already holds different content"):
        cursor_path(tmp_path, "s3").unlink()
        export(tmp_path, ledger, sink)


def test_shortened_retention_is_reported(tmp_path: Path, s3, entries) -> None:  # type: ignore[no-untyped-def]
    # AWS refuses this in compliance mode; moto allows it, which lets us check detection.
    sink = _sink(s3, tmp_path)
    ledger = SyntheticLedger(entries[:10])
    export(tmp_path, ledger, sink)
    key = sink.key(entries[4].seq, entries[4].event_id)
    head = s3.client.head_object(Bucket=sink.bucket, Key=key)
    s3.client.put_object_retention(
        Bucket=sink.bucket,
        Key=key,
        VersionId=head["VersionId"],
        Retention={
            "Mode": "COMPLIANCE",
            "RetainUntilDate": head["ObjectLockRetainUntilDate"] - timedelta(days=20),
        },
    )
    report = verify(tmp_path, ledger, sink)
    assert any(f"{key}@" in p and "retention shortened" in p for p in report.other)
    assert not report.ok


def test_refuses_a_bucket_without_object_lock(tmp_path: Path, s3, entries) -> None:  # type: ignore[no-untyped-def]
    s3.client.create_bucket(Bucket="plain-bucket")
    sink = _sink(s3, tmp_path, bucket="plain-bucket")
    with pytest.raises(ConfigurationError, match="Object Lock"):
        export(tmp_path, SyntheticLedger(entries[:3]), sink)
