"""Rewrite the README's settings table from `tap-linkedin-messages --about --format=markdown`.

`make docs` runs this; a test fails when the README and the tap disagree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def main() -> None:
    readme = Path(__file__).resolve().parent.parent / "README.md"
    about = subprocess.run(
        [
            str(Path(sys.executable).parent / "tap-linkedin-messages"),
            "--about",
            "--format=markdown",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    table = "\n".join(line for line in about.splitlines() if line.startswith("|"))
    text = readme.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{table}\n{END}{tail}")


if __name__ == "__main__":
    main()
