#!/usr/bin/env python3
"""The two commands of a fresh machine (Python 3.11+ and nothing else).

    python3 dev.py serve   install what the app needs into .venv, then serve it on 127.0.0.1:8000
    python3 dev.py test    install the test needs too (Debian's chromium when missing), then run
                           the linters, the type checker and the whole test suite

Extra arguments after `test` go to pytest (`python3 dev.py test tests/auth -x`); after `serve`,
to `roomcraft serve`.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
CHROMIUM = Path("/usr/bin/chromium")


def run(*command: str | Path) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run([str(part) for part in command], cwd=ROOT, check=True)


def ensure_venv(extras: str) -> None:
    """Create .venv and install the project, again only when pyproject.toml changes."""
    if sys.version_info < (3, 11):
        sys.exit("Roomcraft needs Python 3.11 or newer.")
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = (ROOT / "pyproject.toml").read_bytes() + extras.encode()
    stamp = VENV / f".installed-{hashlib.sha256(spec).hexdigest()[:16]}"
    if stamp.exists():
        return
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--editable", target)
    for old in VENV.glob(".installed-*"):
        old.unlink()
    stamp.touch()


def ensure_chromium() -> None:
    """Debian's chromium for the browser tests (Playwright drives it; it downloads nothing)."""
    if CHROMIUM.exists():
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    if not shutil.which("apt-get"):
        sys.exit("The browser tests need Chromium at /usr/bin/chromium (Debian's `chromium`).")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        print("+", " ".join(sudo + command), flush=True)
        subprocess.run(sudo + command, check=True, env=env)


def serve(args: list[str]) -> None:
    ensure_venv("")
    os.execv(BIN / "roomcraft", [str(BIN / "roomcraft"), "serve", "--demo", *args])


def test(args: list[str]) -> None:
    ensure_venv("dev")
    ensure_chromium()
    run(BIN / "ruff", "check", "src", "tests")
    run(BIN / "ruff", "format", "--check", "src", "tests")
    run(BIN / "mypy", "src")
    os.execv(BIN / "pytest", [str(BIN / "pytest"), *args])


def main() -> None:
    commands = {"serve": serve, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
