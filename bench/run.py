"""Benchmark: smtp-gitops against yamllint and check-jsonschema, each (smtp-gitops too) installed
in a venv of its own as a user would install it, measured as whole processes in paired A/B runs.

    .venv/bin/python bench/run.py            # full run (500 and 5,000 files, plan on 500 envs)
    .venv/bin/python bench/run.py --quick    # smaller and fewer runs, for a quick look

The first run also installs the tools into ``bench/.work``. A full run takes about 6 minutes
on a 2-core machine, ``--quick`` about 3 (most of either is yamllint on 500 files); each step
is announced on stderr with the time so far, so the tables on stdout stay clean.

Each pair runs A then B (alternating which goes first), so both see the same machine state; the
tables give the median wall time of each tool, the median of the per-pair ratios, the median CPU
time (user + system, children included, so work spread over cores is counted) and the peak
resident memory of the largest process.
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
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / ".work"
SCHEMA = REPO / "schema" / "smtp-settings.v1.schema.json"


class Progress:
    """Says on stderr which step is running, how far along and how long it has taken."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.done = 0
        self.started = time.monotonic()

    def step(self, text: str) -> None:
        self.done += 1
        elapsed = int(time.monotonic() - self.started)
        print(
            f"[{elapsed // 60}:{elapsed % 60:02d}] {self.done}/{self.steps} {text}",
            file=sys.stderr,
            flush=True,
        )

    def finish(self) -> None:
        elapsed = int(time.monotonic() - self.started)
        print(f"[{elapsed // 60}:{elapsed % 60:02d}] done", file=sys.stderr, flush=True)


@dataclass(frozen=True, slots=True)
class Run:
    wall: float
    cpu: float
    peak_mb: float


def measure(command: Sequence[str], cwd: Path = REPO) -> Run:
    """One whole process: wall time, CPU time and peak RSS from the kernel's own accounting."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.stderr is not None
    errors = process.stderr.read()
    process.stderr.close()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed ({process.returncode}): {errors.decode()[-800:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


@dataclass(frozen=True, slots=True)
class Pair:
    ours: list[Run]
    theirs: list[Run]

    @property
    def ratio(self) -> float:
        """Median of the per-pair wall-time ratios (ours / theirs)."""
        return statistics.median(
            a.wall / b.wall for a, b in zip(self.ours, self.theirs, strict=True)
        )

    @property
    def cpu_ratio(self) -> float:
        return statistics.median(a.cpu / b.cpu for a, b in zip(self.ours, self.theirs, strict=True))


def paired(ours: Sequence[str], theirs: Sequence[str], runs: int, cwd: Path = REPO) -> Pair:
    measure(ours, cwd), measure(theirs, cwd)  # warm the page cache for both
    a: list[Run] = []
    b: list[Run] = []
    for index in range(runs):
        if index % 2:
            b.append(measure(theirs, cwd))
            a.append(measure(ours, cwd))
        else:
            a.append(measure(ours, cwd))
            b.append(measure(theirs, cwd))
    return Pair(a, b)


def median(runs: list[Run], field: str) -> float:
    return float(statistics.median(float(getattr(r, field)) for r in runs))


def tool_venv(name: str, *packages: str) -> Path:
    """A venv holding only ``packages``, as a user of that tool would have it."""
    venv = WORK / f"venv-{name}"
    executable = venv / "bin" / name
    if not executable.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", *packages],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return executable


def our_venv() -> Path:
    """smtp-gitops from this work tree installed as a user installs it: a regular install in a
    venv of its own, like the peers. A development (editable) install would add its import
    finder to every start (~12 ms) and, under PYTHONDONTWRITEBYTECODE, compile every module on
    every run. Reinstalled on each run, so it is the code being measured."""
    venv = WORK / "venv-smtp-gitops"
    pip = venv / "bin" / "pip"
    if not pip.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(pip), "install", "-q", str(REPO)], check=True)
    subprocess.run(
        [str(pip), "install", "-q", "--no-deps", "--force-reinstall", str(REPO)], check=True
    )
    return venv / "bin" / "smtp-gitops"


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
    if not root.exists():
        for index in range(count):
            folder = root / f"env-{index:04d}"
            folder.mkdir(parents=True)
            (folder / "smtp.yaml").write_text(settings_file(f"env-{index:04d}", sets))
    return root


def files_of(root: Path) -> list[str]:
    return sorted(str(p) for p in root.glob("*/smtp.yaml"))


def plan_repository(count: int, sets: int) -> Path:
    """A git repository of ``count`` environments with one of them changed in the work tree."""
    repo = WORK / f"plan-{count}x{sets}"
    if not repo.exists():
        shutil.copytree(generate(count, sets), repo / "environments")
        git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
        subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
        subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "settings"], cwd=repo, check=True)
        changed = repo / "environments" / "env-0000" / "smtp.yaml"
        changed.write_text(changed.read_text().replace("port: 587", "port: 2525", 1))
    return repo


def wall_cpu(run: list[Run]) -> str:
    return f"{median(run, 'wall'):.3f} s wall, {median(run, 'cpu'):.3f} s CPU"


def against_peers(
    ours: str, yamllint: str, check_jsonschema: str, args: argparse.Namespace, progress: Progress
) -> None:
    """The first table: smtp-gitops and each peer, paired, on the same files."""
    schema = ["--schemafile", str(SCHEMA)]
    example = files_of(REPO / "environments")
    print("| measure | smtp-gitops | peer | ratio (median of pairs), wall / CPU |")
    print("|---|---|---|---|")
    progress.step(f"cold start against yamllint ({args.runs * 3} pairs)")
    cold_y = paired([ours, "validate", "-q"], [yamllint, "environments"], args.runs * 3)
    print(
        f"| cold start, bundled example (4 files) | {median(cold_y.ours, 'wall') * 1000:.0f} ms | "
        f"yamllint {median(cold_y.theirs, 'wall') * 1000:.0f} ms | "
        f"{cold_y.ratio:.2f}x / {cold_y.cpu_ratio:.2f}x |"
    )
    progress.step(f"cold start against check-jsonschema ({args.runs * 3} pairs)")
    cold_c = paired([ours, "validate", "-q"], [check_jsonschema, *schema, *example], args.runs * 3)
    print(
        f"| cold start, bundled example (4 files) | {median(cold_c.ours, 'wall') * 1000:.0f} ms | "
        f"check-jsonschema {median(cold_c.theirs, 'wall') * 1000:.0f} ms | "
        f"{cold_c.ratio:.2f}x / {cold_c.cpu_ratio:.2f}x |"
    )
    progress.step(f"500 files against check-jsonschema ({args.runs} pairs)")
    medium = generate(500, args.sets)
    mid = paired(
        [ours, "validate", "-q", str(medium)],
        [check_jsonschema, *schema, *files_of(medium)],
        args.runs,
    )
    print(
        f"| 500 files x {args.sets} sets | {wall_cpu(mid.ours)} | check-jsonschema "
        f"{wall_cpu(mid.theirs)} | {mid.ratio:.2f}x / {mid.cpu_ratio:.2f}x |"
    )
    progress.step(f"500 files against yamllint ({args.runs} pairs; yamllint takes ~20 s a run)")
    mid_y = paired([ours, "validate", "-q", str(medium)], [yamllint, str(medium)], args.runs)
    print(
        f"| 500 files x {args.sets} sets | {wall_cpu(mid_y.ours)} | yamllint "
        f"{wall_cpu(mid_y.theirs)} | {mid_y.ratio:.2f}x / {mid_y.cpu_ratio:.2f}x |"
    )


def scaling(ours: str, args: argparse.Namespace, progress: Progress) -> None:
    """The second table: smtp-gitops alone on many files, per-file time and memory."""
    print("\n| files | smtp-gitops wall | CPU | per file (wall) | peak memory |")
    print("|---|---|---|---|---|")
    per_file = {}
    for count in (500, args.large):
        progress.step(f"{count} files alone ({max(args.runs // 2, 1)} runs)")
        root = generate(count, args.sets)
        runs = [measure([ours, "validate", "-q", str(root)]) for _ in range(max(args.runs // 2, 1))]
        wall = median(runs, "wall")
        per_file[count] = wall / count
        print(
            f"| {count} | {wall:.2f} s | {median(runs, 'cpu'):.2f} s | "
            f"{per_file[count] * 1000:.2f} ms | {max(r.peak_mb for r in runs):.0f} MB |"
        )
    growth = per_file[args.large] / per_file[500] - 1
    print(f"\nPer-file time from 500 to {args.large} files: {growth:+.0%}.")


def plan_timing(ours: str, args: argparse.Namespace, progress: Progress) -> None:
    """``plan`` with one environment changed, among many and alone."""
    progress.step(f"plan among 500 environments and alone ({args.runs} runs each)")
    big = plan_repository(500, args.sets)
    small = plan_repository(1, args.sets)
    plan_big = [measure([ours, "plan", "--base", "HEAD"], cwd=big) for _ in range(args.runs)]
    plan_small = [measure([ours, "plan", "--base", "HEAD"], cwd=small) for _ in range(args.runs)]
    print(
        f"\n`plan --base HEAD`, one environment changed: among 500 environments "
        f"{median(plan_big, 'wall'):.2f} s; in a repository holding only it "
        f"{median(plan_small, 'wall'):.2f} s "
        f"({median(plan_big, 'wall') / median(plan_small, 'wall'):.2f}x)."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="pairs per measure")
    parser.add_argument("--sets", type=int, default=20)
    parser.add_argument("--large", type=int, default=5000, help="files in the large run")
    parser.add_argument(
        "--quick", action="store_true", help="3 pairs, 1,000 files at most (about 3 minutes)"
    )
    parser.add_argument("--clean", action="store_true", help="regenerate everything")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.large = 3, 1000
    if args.clean and WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(exist_ok=True)
    os.environ["NO_COLOR"] = "1"
    progress = Progress(steps=8)
    progress.step("installing the tools into bench/.work (downloads on the first run only)")
    yamllint = str(tool_venv("yamllint", "yamllint"))
    check_jsonschema = str(tool_venv("check-jsonschema", "check-jsonschema", "ruamel.yaml.clib"))
    ours = str(our_venv())
    print(
        f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; {args.runs} paired "
        "runs per row; smtp-gitops, yamllint and check-jsonschema each installed in a venv of "
        "its own (check-jsonschema with ruamel.yaml.clib).\n"
    )
    against_peers(ours, yamllint, check_jsonschema, args, progress)
    scaling(ours, args, progress)
    plan_timing(ours, args, progress)
    print(f"\nProduced by: .venv/bin/python bench/run.py{' --quick' if args.quick else ''}")
    progress.finish()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
