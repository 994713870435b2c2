"""S3 sink with Object Lock in compliance mode: create-only, retained, version-pinned objects.

One object per ledger entry, key ``<prefix><seq:012d>-<event_id>.json``, body the same JSON
document as a JSON Lines row. Each PUT:

- is create-only: ``If-None-Match: *`` (S3 conditional writes,
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html); a 412 means the
  key exists, and the existing object must be byte-equal (idempotent re-export) or the export is
  refused (``Tampered``);
- sets its own retention: ``ObjectLockMode=COMPLIANCE`` and ``ObjectLockRetainUntilDate`` now +
  ``retention_days`` (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html):
  in compliance mode no one, root included, can delete the version or shorten its retention;
- sends a SHA-256 checksum (Object Lock PUTs need an integrity header).

The bucket must have Object Lock enabled; the sink refuses to export into one that has not
(fail closed). Each stored version's ``VersionId`` is recorded in a local append-only manifest
(``.governance/export/s3-manifest.jsonl``); ``verify-sink`` reads that exact version, checks its
retention mode, and reports keys that grew another version or a delete marker.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from governance.errors import ConfigurationError, Tampered, Undecided
from governance.sinks.export import ExportRow, SinkRow
from governance.timeparse import format_rfc3339, parse_instant, utc_now

_CONFLICT = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}


class S3Sink:
    name = "s3"
    batch_size = 500  # PUTs in flight per cursor move

    def __init__(
        self,
        bucket: str,
        prefix: str,
        retention_days: int,
        manifest: Path,
        *,
        endpoint_url: str | None = None,
        client: Any = None,
        workers: int = 8,
    ) -> None:
        if retention_days < 1:
            raise ConfigurationError(f"s3 sink: retention_days {retention_days} (expected >= 1)")
        self.bucket = bucket
        self.prefix = prefix
        self.retention_days = retention_days
        self.manifest = manifest
        self.workers = workers
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url)
        self._lock_checked = False
        self._problems: list[str] = []
        self._retain_until: dict[str, str] = {}

    def destination(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key(self, seq: int, event_id: str) -> str:
        return f"{self.prefix}{seq:012d}-{event_id}.json"

    def _require_object_lock(self) -> None:
        if self._lock_checked:
            return
        try:
            conf = self.client.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as err:
            raise ConfigurationError(
                f"s3 sink {self.destination()}: Object Lock configuration unreadable "
                f"({_code(err)})",
                hint="create the bucket with Object Lock enabled (it cannot be added later "
                "without AWS support)",
            ) from None
        except BotoCoreError as err:
            raise Undecided(f"s3 sink {self.destination()} unavailable: {err}") from None
        enabled = conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled")
        if enabled != "Enabled":
            raise ConfigurationError(
                f"s3 sink {self.destination()}: Object Lock is {enabled or 'off'} "
                "(expected Enabled): refusing to export into a bucket whose objects can be deleted"
            )
        self._lock_checked = True

    def write(self, rows: Sequence[ExportRow]) -> int:
        self._require_object_lock()
        retain = utc_now() + timedelta(days=self.retention_days)
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            results = list(pool.map(lambda r: self._put(r, retain), rows))
        self._record([r for r, _new in results])
        return sum(1 for _r, new in results if new)

    def _put(self, row: ExportRow, retain: datetime) -> tuple[dict[str, Any], bool]:
        key = self.key(row.seq, row.event_id)
        body = row.document_bytes()
        try:
            resp = self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                IfNoneMatch="*",
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=retain,
            )
            new = True
            version = resp.get("VersionId")
        except ClientError as err:
            if _code(err) not in _CONFLICT:
                raise Undecided(f"s3 sink: PUT {key} failed ({_code(err)}: {err})") from None
            existing = self._get(key)
            if existing["Body"] != body:
                raise Tampered(
                    f"s3 sink {self.destination()}: {key} already holds different content "
                    f"(version {existing.get('VersionId')})",
                    hint="run `governance audit verify-sink --sink s3`",
                ) from None
            new = False
            version = existing.get("VersionId")
        except BotoCoreError as err:
            raise Undecided(f"s3 sink {self.destination()} unavailable: {err}") from None
        entry = {
            "seq": row.seq,
            "event_id": row.event_id,
            "key": key,
            "version_id": version,
            "retain_until": format_rfc3339(retain, seconds=True) if new else None,
        }
        return entry, new

    def _get(self, key: str, version: str | None = None) -> dict[str, Any]:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version:
            args["VersionId"] = version
        try:
            resp = self.client.get_object(**args)
            return {"Body": resp["Body"].read(), "VersionId": resp.get("VersionId")}
        except BotoCoreError as err:
            raise Undecided(f"s3 sink {self.destination()} unavailable: {err}") from None

    def _record(self, entries: list[dict[str, Any]]) -> None:
        self.manifest.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries).encode()
        fd = os.open(self.manifest, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _pinned_versions(self) -> dict[str, str]:
        pinned: dict[str, str] = {}
        self._retain_until = {}
        try:
            with open(self.manifest, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        e = json.loads(line)
                    except ValueError:
                        continue
                    if e.get("version_id"):
                        pinned.setdefault(e["key"], e["version_id"])
                    if e.get("retain_until"):
                        self._retain_until.setdefault(e["key"], e["retain_until"])
        except FileNotFoundError:
            pass
        return pinned

    def read_back(self) -> Iterator[SinkRow]:
        self._problems = []
        pinned = self._pinned_versions()
        versions: dict[str, list[str]] = {}
        latest: dict[str, str] = {}
        try:
            pages = self.client.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                for v in page.get("Versions", []):
                    versions.setdefault(v["Key"], []).append(v["VersionId"])
                    if v.get("IsLatest"):
                        latest[v["Key"]] = v["VersionId"]
                for marker in page.get("DeleteMarkers", []):
                    self._problems.append(f"{marker['Key']}: delete marker {marker['VersionId']}")
        except (ClientError, BotoCoreError) as err:
            raise Undecided(f"s3 sink {self.destination()}: cannot list objects ({err})") from None
        for key in sorted(versions):
            ids = versions[key]
            if len(ids) > 1:
                self._problems.append(f"{key}: {len(ids)} versions (expected exactly one)")
            want = pinned.get(key)
            if want is not None and want not in ids:
                self._problems.append(f"{key}: recorded version {want} is gone")
            # The pinned version is the one exported; without a manifest, the current one.
            version = want if want in ids else latest.get(key, ids[0])
            yield self._row(key, version)

    def _row(self, key: str, version: str) -> SinkRow:
        where = f"{key}@{version}"
        got = self._get(key, version)
        # HeadObject reports the version's lock mode and retain-until date (for a caller allowed
        # s3:GetObjectRetention); one call per object instead of HEAD plus GetObjectRetention.
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key, VersionId=version)
        except (ClientError, BotoCoreError) as err:
            raise Undecided(f"s3 sink {self.destination()}: HEAD {where} failed ({err})") from None
        if head.get("ObjectLockMode") != "COMPLIANCE":
            self._problems.append(
                f"{where}: lock mode {head.get('ObjectLockMode')} (expected COMPLIANCE)"
            )
        until = head.get("ObjectLockRetainUntilDate")
        if until is None or until <= utc_now():
            self._problems.append(f"{where}: retention ended or missing ({until})")
        recorded = self._retain_until.get(key)
        if until is not None and recorded is not None:
            # AWS refuses to shorten compliance retention; a shorter date means it was not
            # compliance-locked when changed (or the store is not what it claims).
            if until < parse_instant(recorded) - timedelta(seconds=1):
                self._problems.append(
                    f"{where}: retention shortened to {format_rfc3339(until, seconds=True)} "
                    f"(exported with {recorded})"
                )
        try:
            doc = json.loads(got["Body"])
            if json.loads(doc["stored"]) != doc.get("event"):
                self._problems.append(f"{where}: 'event' differs from 'stored'")
            return SinkRow(
                int(doc["seq"]),
                str(doc["event_id"]),
                str(doc["leaf_hash"]),
                str(doc["stored"]).encode("utf-8"),
                where,
            )
        except (ValueError, KeyError, TypeError):
            self._problems.append(f"{where}: not an export row")
            return SinkRow(-1, key, "", got["Body"], where)

    def problems(self) -> list[str]:
        return list(self._problems)


def create_locked_bucket(client: Any, bucket: str) -> None:
    """Create a bucket with Object Lock enabled (tests, demo; production buckets come from IaC)."""
    client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)


def _code(err: ClientError) -> str:
    error = err.response.get("Error", {})
    return str(error.get("Code") or err.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
