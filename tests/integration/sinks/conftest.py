"""Fixtures for sink integration tests: a throwaway PostgreSQL server, moto's S3 server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.postgres import WRITER, PgServer, start_server

if TYPE_CHECKING:
    from governance.audit.org import OrgTrust
    from tests.support.org import SyntheticOrigin

_db_numbers = itertools.count()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        server = start_server()
    except (FileNotFoundError, RuntimeError) as err:
        pytest.skip(f"PostgreSQL not available: {err}")
    import psycopg

    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {WRITER} LOGIN")
    yield server
    server.destroy()


@dataclass(frozen=True)
class PgDatabase:
    server: PgServer
    name: str

    @property
    def admin_dsn(self) -> str:
        return self.server.dsn(self.name)

    @property
    def writer_dsn(self) -> str:
        return self.server.dsn(self.name, WRITER)


@pytest.fixture
def pg_db(pg_server: PgServer) -> PgDatabase:
    """A fresh database with the append-only table installed for the writer role."""
    import psycopg

    from governance.sinks.postgres import install_schema

    name = f"audit_{next(_db_numbers)}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(pg_server.dsn(name)) as conn:
        install_schema(conn, WRITER)
    return PgDatabase(pg_server, name)


@pytest.fixture
def org_db(pg_server: PgServer) -> tuple[str, str]:
    """(admin DSN, writer DSN) of a fresh database with the organisation tables."""
    import psycopg

    from governance.sinks.postgres_org import install_org_schema

    name = f"org_{next(_db_numbers)}"
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(pg_server.dsn(name)) as conn:
        assert install_org_schema(conn, WRITER) == []
    return pg_server.dsn(name), pg_server.dsn(name, WRITER)


@pytest.fixture
def exported(org_db: tuple[str, str], origins: list[SyntheticOrigin],
             tmp_path: Path) -> tuple[str, str, OrgTrust]:
    """(admin DSN, writer DSN, the org trust pinning them) of a fresh organisation database
    holding the requesting module's ``origins`` (a fixture of its own), exported with their
    checkpoints (``tests.support.org.export_origins``)."""
    from tests.support.org import export_origins

    admin, writer = org_db
    return admin, writer, export_origins(writer, origins, tmp_path / "trust.yaml")


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    client: object


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3 in server mode on loopback (a stand-in: it enforces less than AWS)."""
    import os

    try:
        from moto.server import ThreadedMotoServer
    except ImportError as err:  # pragma: no cover - moto is a dev dependency
        pytest.skip(f"moto server not installed: {err}")
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(key, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server: str) -> Iterator[S3Endpoint]:
    import boto3

    client = boto3.client("s3", endpoint_url=s3_server)
    yield S3Endpoint(s3_server, client)
    client.close()
