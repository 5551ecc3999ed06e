"""Benchmark: whole-process time of `smtp-gitops validate` against `check-jsonschema` on the same
generated repository, cold start on the bundled example, and growth with the number of files.

    .venv/bin/python bench/run.py            # 500 environments x 20 sets, median of 5 runs
    .venv/bin/python bench/run.py --quick    # a smaller run for a quick look
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
SCHEMA = REPO / "schema" / "smtp-settings.v1.schema.json"
BIN = Path(sys.executable).parent


def settings_file(environment: str, sets: int) -> str:
    lines = [
        "# yaml-language-server: $schema=../../schema/smtp-settings.v1.schema.json",
        "apiVersion: smtp-gitops/v1",
        "kind: SmtpSettings",
        "metadata:",
        f"  environment: {environment}",
        "  production: false",
        "spec:",
        "  sets:",
    ]
    for index in range(sets):
        lines += [
            f"    - name: set-{index}",
            f"      enabled: {'true' if index == 0 else 'false'}",
            f"      networkHost: smtp{index}.example.com",
            "      port: 587",
            "      enableSsl: true",
            f"      username: sender{index}@example.com",
            f"      password: {{fromEnv: SMTP_SET_{index}_PASSWORD}}",
            "      reportEmails:",
            f"        - {{email: reports{index}@example.com, enabled: true}}",
        ]
    lines += [
        "  render:",
        "    template: portal-json",
        f"    output: /etc/portal/{environment}/smtp.json",
        "  reload:",
        "    targets:",
        f"      - https://{environment}.example.com/api/reload-application",
        "    secretFromEnv: PORTAL_RELOAD_SECRET",
    ]
    return "\n".join(lines) + "\n"


def generate(count: int, sets: int) -> Path:
    root = WORK / f"repo-{count}x{sets}" / "environments"
    if root.exists():
        return root
    for index in range(count):
        folder = root / f"env-{index:04d}"
        folder.mkdir(parents=True)
        (folder / "smtp.yaml").write_text(settings_file(f"env-{index:04d}", sets))
    return root


def check_jsonschema() -> Path:
    """check-jsonschema from this environment if installed, else a venv of its own."""
    here = BIN / "check-jsonschema"
    if here.exists():
        return here
    venv = WORK / "check-jsonschema-venv"
    if not (venv / "bin" / "check-jsonschema").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "check-jsonschema"], check=True)
    return venv / "bin" / "check-jsonschema"


def timed(command: Sequence[str], runs: int, cwd: Path = REPO) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{command[0]} failed: {done.stderr.decode()[-500:]}")
    return statistics.median(times)


def files_of(root: Path) -> list[str]:
    return sorted(str(p) for p in root.glob("*/smtp.yaml"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=500)
    parser.add_argument("--sets", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100 environments, 3 runs")
    parser.add_argument("--clean", action="store_true", help="regenerate the repositories")
    args = parser.parse_args(argv)
    if args.quick:
        args.environments, args.runs = 100, 3
    if args.clean and WORK.exists():
        shutil.rmtree(WORK)
    smtp_gitops = str(BIN / "smtp-gitops")
    reference = str(check_jsonschema())
    os.environ.setdefault("NO_COLOR", "1")

    root = generate(args.environments, args.sets)
    lines_per_file = settings_file("x", args.sets).count("\n")
    ours = timed([smtp_gitops, "validate", "-q", str(root)], args.runs)
    theirs = timed([reference, "--schemafile", str(SCHEMA), *files_of(root)], args.runs)
    cold = timed([smtp_gitops, "validate", "-q", "environments"], max(args.runs * 4, 10))
    reference_small = timed(
        [reference, "--schemafile", str(SCHEMA), *files_of(REPO / "environments")], args.runs
    )

    print(f"Workload: {args.environments} files x {args.sets} sets ({lines_per_file} lines each); "
          f"median of {args.runs} whole-process runs; {os.cpu_count()} cores; "
          f"Python {sys.version.split()[0]}.\n")
    print("| command | bundled example (4 files) | generated repository |")
    print("|---|---|---|")
    print(f"| `smtp-gitops validate` | {cold * 1000:.0f} ms | {ours:.2f} s |")
    print(f"| `check-jsonschema --schemafile …` | {reference_small * 1000:.0f} ms | {theirs:.2f} s |")
    print(f"| ratio | | **{ours / theirs:.2f}×** |\n")

    print("| files | `smtp-gitops validate` | per file |")
    print("|---|---|---|")
    for count in sorted({max(args.environments // 10, 1), args.environments // 4, args.environments // 2, args.environments}):
        sub = generate(count, args.sets)
        seconds = timed([smtp_gitops, "validate", "-q", str(sub)], args.runs)
        print(f"| {count} | {seconds:.2f} s | {seconds / count * 1000:.2f} ms |")
    print(f"\nProduced by: .venv/bin/python bench/run.py{' --quick' if args.quick else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
