"""The backup and restore of docs/deploy.md, run as an operator would: a PostgreSQL deployment
with a facilitator is dumped with `pg_dump --format=custom`, its database dropped and created
empty, restored with `pg_restore`, and the restored deployment knows its facilitator and its
schema version again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import _free_port, require_service

COMPANION = [sys.executable, "-m", "companion.cli"]


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Cluster:
    """A throwaway PostgreSQL cluster on a free port."""

    def __init__(self, bin_dir: Path, data: Path) -> None:
        self.bin, self.data, self.port = bin_dir, data, _free_port()

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL client tool against the cluster as the postgres user."""
        command = [str(self.bin / tool), "-h", "127.0.0.1", "-p", str(self.port), *args]
        return subprocess.run(_as_postgres(command), check=True, capture_output=True, text=True)

    def pg_ctl(self, action: str) -> None:
        """Start or stop the cluster."""
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off"
        command = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "log")]
        if action == "start":
            command += ["-o", options]
        subprocess.run(_as_postgres([*command, "-w", action]), check=True, capture_output=True)


@pytest.fixture()
def cluster() -> Iterator[Cluster]:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found or (shutil.which("runuser") is None and os.geteuid() == 0):
        require_service("PostgreSQL", "no initdb under /usr/lib/postgresql")
    # Not under pytest's tmp_path: the postgres user must reach the folder.
    top = Path(tempfile.mkdtemp(prefix="kollega-restore-"))
    top.chmod(0o777)
    data = top / "pg"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    initdb = [str(found[-1]), "-D", str(data), "-A", "trust", "-U", "postgres"]
    subprocess.run(_as_postgres(initdb), check=True, capture_output=True)
    cluster = Cluster(found[-1].parent, data)
    cluster.pg_ctl("start")
    try:
        yield cluster
    finally:
        cluster.pg_ctl("stop")
        shutil.rmtree(top, ignore_errors=True)


def _companion(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMPANION, *args], env=env, check=True, capture_output=True, text=True, timeout=120
    )


def test_a_dump_restored_into_an_empty_database_works_again(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.run("createdb", "kollega")
    env = {
        **os.environ,
        "COMPANION_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{cluster.port}/kollega",
        "COMPANION_SECRET_KEY": "backup-test-key-0123456789abcdef",
        "COMPANION_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    env.pop("COMPANION_TEST_DATABASE_URL", None)
    _companion(env, "db", "upgrade")
    _companion(
        env, "facilitator", "create", "--email", "fia@example.org",
        "--organisation", "Varsinais-Suomen Yrittäjät", "--password", "correct horse battery",
    )  # fmt: skip
    token_before = _companion(env, "facilitator", "token", "fia@example.org").stdout.strip()
    assert token_before

    dump = cluster.data.parent / "kollega.dump"  # where the postgres user may write
    cluster.run("pg_dump", "--format=custom", f"--file={dump}", "kollega")
    assert dump.stat().st_size > 0
    cluster.run("dropdb", "kollega")
    cluster.run("createdb", "kollega")
    empty = cluster.run("psql", "-At", "-c", "select count(*) from pg_tables "
                        "where schemaname = 'public'", "kollega")  # fmt: skip
    assert empty.stdout.strip() == "0"

    cluster.run("pg_restore", "--dbname=kollega", "--no-owner", str(dump))
    upgraded = _companion(env, "db", "upgrade")
    assert "up to date" in (upgraded.stdout + upgraded.stderr)
    restored = cluster.run("psql", "-At", "-c", "select email from facilitator", "kollega")
    assert restored.stdout.split() == ["fia@example.org"]
    # The restored deployment signs its facilitator in again (same key, same account).
    assert _companion(env, "facilitator", "token", "fia@example.org").stdout.strip()
