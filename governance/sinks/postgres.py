"""PostgreSQL sink: an append-only table that even its writer cannot change.

Layout (``install_schema``, run once by an administrator):

- table ``governance_audit_events``: seq (primary key), event_id (unique), event_type,
  event_time, leaf_hash, stored (the exact bytes), ledger_commit, checkpoint, exported_at;
- the writer role gets INSERT and SELECT only (no UPDATE, DELETE, TRUNCATE, no ownership);
- BEFORE UPDATE OR DELETE (per row) and BEFORE TRUNCATE (per statement) triggers raise, so even
  the owner cannot change rows without first disabling triggers
  (https://www.postgresql.org/docs/current/sql-createtrigger.html).

A superuser can still ``ALTER TABLE ... DISABLE TRIGGER`` and edit: ``verify-sink`` recomputes
each row's leaf hash from its stored bytes and compares it with the ledger, so such an edit is
caught even when the hash column was rewritten to match.

Writes: one transaction per batch; rows are COPY'd into a temporary table and inserted with
``ON CONFLICT DO NOTHING`` (idempotent by event_id and seq); then every sent row must be present
and byte-equal, else the batch is refused (``Tampered``). A connection failure is ``Undecided``
(exit 3) and the export cursor does not move.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from governance.errors import ConfigurationError, Tampered, Undecided
from governance.sinks.export import ExportRow, SinkRow

TABLE = "governance_audit_events"
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}\Z")


def _ident(name: str, what: str) -> sql.Identifier:
    if not _IDENT.fullmatch(name):
        raise ConfigurationError(f"postgres sink: {what} {name!r} is not a plain SQL identifier")
    return sql.Identifier(name)


def install_schema(conn: psycopg.Connection[Any], writer_role: str, table: str = TABLE) -> None:
    """Create the append-only table, its triggers and the writer's grants (idempotent)."""
    t = _ident(table, "table")
    role = _ident(writer_role, "writer role")
    fn = _ident(f"{table}_append_only", "function")
    statements = [
        sql.SQL(
            """CREATE TABLE IF NOT EXISTS {t} (
                seq           bigint PRIMARY KEY CHECK (seq >= 0),
                event_id      text NOT NULL UNIQUE,
                event_type    text NOT NULL,
                event_time    timestamptz NOT NULL,
                leaf_hash     text NOT NULL CHECK (leaf_hash ~ '^[0-9a-f]{{64}}$'),
                stored        bytea NOT NULL,
                ledger_commit text NOT NULL,
                checkpoint    text,
                exported_at   timestamptz NOT NULL DEFAULT now()
            )"""
        ).format(t=t),
        sql.SQL(
            """CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'governance audit table % is append-only: % refused',
                    TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$"""
        ).format(fn=fn),
        sql.SQL("DROP TRIGGER IF EXISTS append_only_rows ON {t}").format(t=t),
        sql.SQL(
            "CREATE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON {t} "
            "FOR EACH ROW EXECUTE FUNCTION {fn}()"
        ).format(t=t, fn=fn),
        sql.SQL("DROP TRIGGER IF EXISTS append_only_truncate ON {t}").format(t=t),
        sql.SQL(
            "CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON {t} "
            "FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
        ).format(t=t, fn=fn),
        sql.SQL("REVOKE ALL ON {t} FROM PUBLIC").format(t=t),
        sql.SQL("REVOKE ALL ON {t} FROM {role}").format(t=t, role=role),
        sql.SQL("GRANT INSERT, SELECT ON {t} TO {role}").format(t=t, role=role),
    ]
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)


class PostgresSink:
    name = "postgres"
    batch_size = 10_000  # one transaction per batch: fewer round trips and commits

    def __init__(self, dsn: str, table: str = TABLE) -> None:
        self.dsn = dsn
        self.table = table
        self._t = _ident(table, "table")
        self._conn: psycopg.Connection[Any] | None = None

    def destination(self) -> str:
        # Host, port, database and table only: never the password.
        try:
            info = psycopg.conninfo.conninfo_to_dict(self.dsn)
        except psycopg.ProgrammingError as err:
            raise ConfigurationError(f"postgres sink: unusable DSN ({err})") from None
        host = info.get("host") or "localhost"
        port = info.get("port") or 5432
        return f"postgresql://{host}:{port}/{info.get('dbname') or ''}#{self.table}"

    def _connect(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            try:
                self._conn = psycopg.connect(self.dsn, connect_timeout=10)
            except psycopg.OperationalError as err:
                raise Undecided(
                    f"postgres sink {self.destination()} unavailable: {_first_line(err)}",
                    hint="nothing was lost: re-run the export when the server is back",
                ) from None
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def write(self, rows: Sequence[ExportRow]) -> int:
        conn = self._connect()
        try:
            with conn.transaction():
                # The cursor moves once this commit returns: it must be durable, whatever the
                # server's default (synchronous_commit=off acknowledges before the WAL flush).
                conn.execute("SET LOCAL synchronous_commit = on")
                conn.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS governance_export_batch ("
                    "seq bigint, event_id text, event_type text, event_time timestamptz, "
                    "leaf_hash text, stored bytea, ledger_commit text, checkpoint text"
                    ") ON COMMIT DELETE ROWS"
                )
                with conn.cursor() as cur:
                    with cur.copy(
                        "COPY governance_export_batch (seq, event_id, event_type, event_time, "
                        "leaf_hash, stored, ledger_commit, checkpoint) FROM STDIN"
                    ) as copy:
                        for r in rows:
                            copy.write_row(
                                (
                                    r.seq,
                                    r.event_id,
                                    r.event_type,
                                    r.timestamp,
                                    r.leaf_hash,
                                    r.stored,
                                    r.commit,
                                    r.checkpoint,
                                )
                            )
                    cur.execute(
                        sql.SQL(
                            "INSERT INTO {t} (seq, event_id, event_type, event_time, leaf_hash, "
                            "stored, ledger_commit, checkpoint) SELECT seq, event_id, event_type, "
                            "event_time, leaf_hash, stored, ledger_commit, checkpoint FROM "
                            "governance_export_batch ORDER BY seq ON CONFLICT DO NOTHING"
                        ).format(t=self._t)
                    )
                    inserted = cur.rowcount
                    clashes = []
                    if inserted != len(rows):  # some rows were there: they must be equal
                        cur.execute(
                            sql.SQL(
                                "SELECT b.seq, b.event_id, t.seq "
                                "FROM governance_export_batch b LEFT JOIN {t} t "
                                "ON t.event_id = b.event_id WHERE t.event_id IS NULL "
                                "OR t.seq <> b.seq OR t.leaf_hash <> b.leaf_hash "
                                "OR t.stored <> b.stored ORDER BY b.seq LIMIT 5"
                            ).format(t=self._t)
                        )
                        clashes = cur.fetchall()
                if clashes:
                    seq, event_id, found = clashes[0]
                    where = "absent (another event holds its seq)" if found is None else "different"
                    raise Tampered(
                        f"postgres sink {self.destination()}: row for seq {seq} event {event_id} "
                        f"is {where} ({len(clashes)} such rows in this batch)",
                        hint="run `governance audit verify-sink --sink postgres`",
                    )
        except psycopg.OperationalError as err:
            self.close()
            raise Undecided(
                f"postgres sink {self.destination()} failed mid-export: {_first_line(err)}",
                hint="nothing was lost: the batch was rolled back; re-run the export",
            ) from None
        except psycopg.errors.InsufficientPrivilege as err:
            raise ConfigurationError(
                f"postgres sink {self.destination()}: {_first_line(err)}",
                hint="run `governance audit sink-init --sink postgres` as an administrator",
            ) from None
        except psycopg.errors.UndefinedTable:
            raise ConfigurationError(
                f"postgres sink {self.destination()}: table {self.table} does not exist",
                hint="run `governance audit sink-init --sink postgres` as an administrator",
            ) from None
        return max(inserted, 0)

    def read_back(self) -> Iterator[SinkRow]:
        conn = self._connect()
        try:
            with conn.transaction(), conn.cursor(name="governance_verify") as cur:
                cur.itersize = 5000
                cur.execute(
                    sql.SQL("SELECT seq, event_id, leaf_hash, stored FROM {t} ORDER BY seq").format(
                        t=self._t
                    )
                )
                for seq, event_id, leaf, stored in cur:
                    yield SinkRow(
                        int(seq), event_id, leaf, bytes(stored), f"{self.table} seq {seq}"
                    )
        except psycopg.OperationalError as err:
            self.close()
            raise Undecided(f"postgres sink unavailable: {_first_line(err)}") from None

    def problems(self) -> list[str]:
        return []


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def install_admin(admin_dsn_env: str, writer_role: str, table: str = TABLE) -> None:
    """``audit sink-init``: connect with the administrator DSN from the environment and install."""
    from governance import ci_context

    dsn = ci_context.current().variable(admin_dsn_env)
    if not dsn:
        raise ConfigurationError(
            f"postgres sink-init: environment variable {admin_dsn_env} is not set"
        )
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            install_schema(conn, writer_role, table)
    except psycopg.OperationalError as err:
        raise Undecided(f"postgres sink-init: server unavailable: {_first_line(err)}") from None
    except psycopg.Error as err:
        raise ConfigurationError(f"postgres sink-init: {_first_line(err)}") from None
