"""Benchmark: deploy fan-out. Whole-process `smtp-gitops deploy --force` to 1, 10 and 100 portal
nodes (the reference receiver on 127.0.0.1), each node taking DELAY seconds to answer.

    .venv/bin/python bench/fanout.py              # 0.5 s per node, median of 5 runs
    .venv/bin/python bench/fanout.py --delay 0 --runs 9
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from smtp_gitops.deploy.receiver import ReceiverServer, ReceiverState  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"bench-reload-signing-key-0123456789").decode()

SETTINGS = """\
apiVersion: smtp-gitops/v1
kind: SmtpSettings
metadata:
  environment: bench
spec:
  sets:
    - name: primary
      enabled: true
      networkHost: smtp.example.com
      username: portal@example.com
      password: {{fromEnv: SMTP_PRIMARY_PASSWORD}}
  render:
    output: {output}
  reload:
    targets:
{targets}
    secretFromEnv: PORTAL_RELOAD_SECRET
    timeoutSeconds: 30
    retries: 0
"""


def timed_deploy(folder: Path, nodes: int, url: str, runs: int) -> float:
    targets = "\n".join(f"      - {url}?node={n}" for n in range(nodes))
    settings = folder / "environments" / "bench" / "smtp.yaml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(SETTINGS.format(output=folder / "smtp.json", targets=targets))
    env = {**os.environ, "SMTP_PRIMARY_PASSWORD": "bench", "PORTAL_RELOAD_SECRET": SECRET}
    command = [str(Path(sys.executable).parent / "smtp-gitops"), "deploy", "bench", "--force"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"deploy failed: {done.stdout.decode()[-500:]}")
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.5, help="seconds each node takes")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    state = ReceiverState(SECRET, quiet=True, delay=args.delay)
    server = ReceiverServer(("127.0.0.1", 0), state)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    ).start()
    print(
        f"Each node answers after {args.delay:g} s; median of {args.runs} whole-process runs of "
        f"`smtp-gitops deploy --force`; {os.cpu_count()} cores; Python {sys.version.split()[0]}.\n"
    )
    print("| nodes | deploy wall time | vs 1 node |")
    print("|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        base = None
        for nodes in (1, 10, 100):
            seconds = timed_deploy(Path(scratch), nodes, server.url, args.runs)
            base = base or seconds
            print(f"| {nodes} | {seconds:.2f} s | {seconds / base:.2f}x |")
    server.shutdown()
    print(
        f"\nProduced by: .venv/bin/python bench/fanout.py --delay {args.delay:g} --runs {args.runs}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
