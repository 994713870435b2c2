"""Fixtures for sink integration tests: a throwaway PostgreSQL server, moto's S3 server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.postgres import WRITER, PgServer, start_server

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
