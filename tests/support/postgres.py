"""A throwaway PostgreSQL server from Debian's package binaries, for tests and benchmarks.

``initdb`` into a fresh temporary directory, listen on a random loopback port and a Unix socket
in that directory, ``fsync=off`` (the data is thrown away). PostgreSQL refuses to run as root, so
as root the server runs as the ``postgres`` system user (created by the Debian package) through
``runuser``, in a directory owned by that user. Missing binaries -> the caller skips with the
reason; nothing passes silently.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ADMIN = "governance_admin"
WRITER = "governance_writer"


def find_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    return Path(found[-1]).parent if found else None


def _version_key(path: str) -> int:
    part = path.split("/")[4]
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    bindir: Path
    root: Path = field(init=False)
    port: int = field(init=False)
    _prefix: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="governance-pg-"))
        self.port = _free_port()
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError as err:
                raise RuntimeError("running as root and there is no 'postgres' user") from err
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._prefix = ["runuser", "-u", "postgres", "--"]

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *argv: str) -> None:
        subprocess.run([*self._prefix, *argv], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            ADMIN,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def dsn(self, dbname: str = "postgres", user: str = ADMIN) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user={user}"

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PgServer:
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): "
            "install Debian's postgresql package (.ci/run does)"
        )
    server = PgServer(bindir)
    try:
        server.init()
        server.start()
    except BaseException:
        server.destroy()
        raise
    return server
