"""Meltano on this repository's `meltano.yml`, for the tests that run whole pipelines
(tests/test_postgres_e2e.py, tests/test_analytics.py): installed once per test session,
its plugins too, with its `.meltano` folder in a temporary folder.

Nothing reaches the internet except the first install of Meltano and the plugins from
PyPI (as `make demo` does).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: Made by the script `make demo` and `make analyze` use, which says what goes in it.
MELTANO_VENV = REPO / ".venv-meltano"
EXTRACTOR, PRIVATE_EXTRACTOR = "tap-linkedin-messages", "tap-linkedin-messages--private"
#: Every plugin of meltano.yml the tests run (`dbt-postgres` shares `dbt-duckdb`'s
#: virtualenv: it inherits it with the same `pip_url`).
PLUGINS = (
    EXTRACTOR,
    PRIVATE_EXTRACTOR,
    "target-postgres",
    "target-jsonl",
    "target-duckdb",
    "dbt-duckdb",
    "dbt-postgres",
)
MELTANO_TIMEOUT = 300
# Environment variables of the calling shell that would reconfigure the runs under test.
FOREIGN_ENV = (
    "MELTANO_",
    "TAP_LINKEDIN_MESSAGES_",
    "TARGET_POSTGRES_",
    "TARGET_JSONL_",
    "TARGET_DUCKDB_",
    "DBT_",
    "PG",
)


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN_ENV)}
    env |= {"MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "MELTANO_DISABLE_TRACKING": "true"}
    return env


@dataclass
class Meltano:
    """Meltano on this repository's `meltano.yml`, with its `.meltano` folder (plugin
    virtualenvs, run files) kept in a temporary folder: the tests never race a
    `make demo` running in the checkout, and the checkout's `.meltano` stays as it is."""

    executable: Path
    sys_dir: Path

    def machine(self, path: Path) -> Path:
        """A `.meltano` folder of its own, as on another machine, sharing the installed
        plugins: Meltano 4 writes each run's catalog to one fixed path per extractor, so
        runs side by side in one folder would overwrite each other's."""
        path.mkdir(parents=True)
        for kind in ("extractors", "loaders", "transformers"):
            (path / kind).symlink_to(self.sys_dir / kind)
        return path

    def env(self, *extra: dict[str, str], sys_dir: Path | None = None) -> dict[str, str]:
        env = base_env() | {"MELTANO_SYS_DIR_ROOT": str(sys_dir or self.sys_dir)}
        for variables in extra:
            env |= variables
        return env

    def argv(self, *args: str) -> list[str]:
        return [str(self.executable), "--log-level=warning", *args]

    def __call__(
        self, *args: str, env: dict[str, str], check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            self.argv(*args),
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=MELTANO_TIMEOUT,
            check=False,
        )
        if check:
            assert completed.returncode == 0, (
                f"meltano {' '.join(args)} exited {completed.returncode}:\n"
                f"{completed.stderr[-4000:]}"
            )
        return completed

    def start(self, *args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            return subprocess.Popen(
                self.argv(*args), cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
            )


@pytest.fixture(scope="session")
def meltano(tmp_path_factory: pytest.TempPathFactory) -> Meltano:
    """Meltano in `.venv-meltano` (made by `scripts/meltano_venv.sh` if missing, as
    `make demo` does), and the plugins installed once for the session."""
    subprocess.run(["bash", "-c", ". scripts/meltano_venv.sh"], cwd=REPO, check=True)
    project = Meltano(MELTANO_VENV / "bin" / "meltano", tmp_path_factory.mktemp("meltano-sys"))
    project("install", *PLUGINS, env=project.env())
    return project
