"""Deploy: render, write atomically, reload every portal node, and converge on failure.

The promise: a deploy that is killed, cancelled, raced or half-failed never leaves the output or
a node on settings that are not in git while reporting success. The pieces: a lock per output,
a state file written before the first reload (so the next deploy finishes a killed one), signals
turned into a rollback, and a rollback that reloads every node that took the new config.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import subprocess
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace

from smtp_gitops.deploy.delivery import (
    NodeResult,
    RetryPolicy,
    Signed,
    deliver_all,
    one_line,
    query_all,
)
from smtp_gitops.deploy.deploy_state import (
    FAILED,
    NODE_ACCEPTED,
    NODE_CONFIRMED,
    NODE_FAILED,
    NODE_ROLLBACK_FAILED,
    NODE_ROLLED_BACK,
    ROLLBACK_FAILED,
    ROLLED_BACK,
    SUCCEEDED,
    Attempt,
    Deployed,
    DeployState,
    NodeRecord,
    append_history,
    deploy_lock,
    load_state,
    save_state,
)
from smtp_gitops.deploy.interrupts import Interrupts
from smtp_gitops.deploy.policy import DeployPolicy
from smtp_gitops.deploy.safe_files import open_folder, real_path_of
from smtp_gitops.deploy.webhook import (
    config_digest,
    deploy_webhook_id,
    new_deploy_id,
    now_utc,
    reload_body,
    rfc3339,
    signing_key,
)
from smtp_gitops.exit_codes import EXIT_FAILED, EXIT_OK
from smtp_gitops.render.files import remove_stale_temp_files, write_atomic
from smtp_gitops.render.render import render_settings
from smtp_gitops.render.secrets import REDACTED, scrub, set_passwords
from smtp_gitops.settings.bounded import open_regular
from smtp_gitops.settings.discovery import in_repository, repository_root
from smtp_gitops.settings.model import ReloadConfig, Settings

DEFAULT_LOCK_TIMEOUT = 120.0
MAX_OUTPUT_BYTES = 16 * 1024 * 1024  # a rendered config is a few KiB


class DeployUsageError(Exception):
    """The settings cannot be deployed as configured, or the policy forbids it (exit 2)."""


@dataclass(frozen=True, slots=True)
class DeployOptions:
    dry_run: bool = False
    force: bool = False
    allow_older: bool = False  # deploy a revision git knows to be older than the deployed one
    require_clean: bool = False  # refuse a work tree with uncommitted changes (exit 2)
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    policy: DeployPolicy = field(default_factory=DeployPolicy)
    backoff_base: float = 0.5
    sleep: Callable[[float], Awaitable[None]] | None = None  # tests inject a fast one


@dataclass(slots=True)
class DeployResult:
    exit_code: int
    deploy_id: str | None = None
    nodes: list[NodeResult] = field(default_factory=list)
    rollback: list[NodeResult] = field(default_factory=list)
    skipped: bool = False


def _git(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=10, check=False, cwd=cwd
        )
    except (OSError, subprocess.SubprocessError):
        return None


def git_revision(cwd: str | None = None) -> str | None:
    """HEAD's commit when run inside a git work tree; deploying never depends on git."""
    done = _git("rev-parse", "HEAD", cwd=cwd)
    revision = done.stdout.strip() if done is not None else ""
    return revision if done is not None and done.returncode == 0 and revision else None


def work_tree_dirty(cwd: str | None = None) -> bool:
    """Whether tracked files differ from HEAD (what is rendered is then not HEAD's)."""
    done = _git("status", "--porcelain", "--untracked-files=no", cwd=cwd)
    return done is not None and done.returncode == 0 and bool(done.stdout.strip())


def is_older(revision: str, than: str, cwd: str | None = None) -> bool:
    """True when git knows ``revision`` to be an ancestor of ``than`` (and not the same
    commit): deploying it would take the nodes back. Unknown commits are not older."""
    if revision == than:
        return False
    done = _git("merge-base", "--is-ancestor", revision, than, cwd=cwd)
    return done is not None and done.returncode == 0


def _quiet_on_closed_output(echo: Callable[[str], None]) -> Callable[[str], None]:
    """``echo`` that survives its reader going away: a closed stdout must never stop a deploy
    half-way (the rollback, the state and the history still have to happen)."""
    closed = False

    def say(line: str) -> None:
        nonlocal closed
        if closed:
            return
        try:
            echo(line)
        except (OSError, ValueError):
            closed = True

    return say


@dataclass(frozen=True, slots=True)
class _Previous:
    """The output as it was before this deploy, to put back byte for byte."""

    content: bytes | None
    mode: int = 0o600
    owner: tuple[int, int] | None = None

    @classmethod
    def read(cls, path: str, dir_fd: int | None = None) -> _Previous:
        """Refused (``OSError``) unless a regular file of bounded size: a FIFO, a device or a
        link at the output must neither hang deploy nor be replaced by the config."""
        try:
            descriptor = open_regular(path, os.O_RDONLY, dir_fd=dir_fd)
        except FileNotFoundError:
            return cls(None)
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_size > MAX_OUTPUT_BYTES:
                raise OSError(errno.EFBIG, f"over {MAX_OUTPUT_BYTES} bytes", path)
            content = handle.read(MAX_OUTPUT_BYTES + 1)
        if len(content) > MAX_OUTPUT_BYTES:
            raise OSError(errno.EFBIG, f"over {MAX_OUTPUT_BYTES} bytes", path)
        return cls(content, stat.S_IMODE(info.st_mode), (info.st_uid, info.st_gid))

    def restore(self, path: str, dir_fd: int | None = None) -> None:
        if self.content is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path, dir_fd=dir_fd)
        else:
            write_atomic(path, self.content, self.mode, owner=self.owner, dir_fd=dir_fd)


def signing_key_for(reload: ReloadConfig, env: Mapping[str, str]) -> tuple[bytes, str]:
    secret = env.get(reload.secretFromEnv)
    if not secret:
        raise DeployUsageError(
            f"environment variable {reload.secretFromEnv} (reload signing secret) is not set"
        )
    return signing_key(secret, reload.secretFromEnv), secret


def deploy(
    settings: Settings,
    options: DeployOptions,
    echo: Callable[[str], None],
    environ: Mapping[str, str] | None = None,
    repository: str | None = None,
) -> DeployResult:
    """``repository`` is where user templates must live (default: the working directory's)."""
    env = os.environ if environ is None else environ
    if settings.spec.render.output is None:
        raise DeployUsageError("spec.render.output is not set: deploy needs a file to write")
    output = in_repository(settings.spec.render.output, repository or repository_root(os.getcwd()))
    reload = settings.spec.reload
    targets = list(reload.targets) if reload else []
    refused = options.policy.problems(output, targets)
    if refused:
        raise DeployUsageError("; ".join(refused))

    if options.dry_run:
        text = render_settings(settings, redact=True, environ=env, repository=repository)
        _print_dry_run(echo, text, output, targets)
        return DeployResult(EXIT_OK)

    key, secret = signing_key_for(reload, env) if reload else (None, None)
    # The revision is read with the render, so the one recorded is the one rendered: a deploy
    # that waits for the lock while the checkout moves on records what it really deploys.
    revision = git_revision(repository)
    dirty = revision is not None and work_tree_dirty(repository)
    if dirty and options.require_clean:
        raise DeployUsageError(
            "the work tree has uncommitted changes (--require-clean): commit them, or deploy "
            "from a clean checkout"
        )
    content = render_settings(settings, environ=env, repository=repository).encode("utf-8")
    passwords = set_passwords(settings, redact=False, environ=env, repository=repository)
    secrets = [secret, *passwords.values()]
    write = _quiet_on_closed_output(echo)
    say: Callable[[str], None] = lambda line: write(scrub(line, secrets))  # noqa: E731
    run = _Run(settings.metadata.environment, output, targets, reload, key, options, say)
    run.revision, run.repository, run.dirty = revision, repository, dirty
    if dirty:
        say(
            f"warning: the work tree has uncommitted changes: deploying them as revision "
            f"{(revision or '')[:12]} plus those changes (recorded as dirty)"
        )
    holder = {"deployId": run.deploy_id, "since": rfc3339(now_utc())}
    try:
        with deploy_lock(output, options.lock_timeout, holder, say):
            # The folder is opened once, under the lock, and checked where the kernel says it
            # is; every file beside the output is then reached through that descriptor, so a
            # folder swapped for a link during the wait, or later, is refused or harmless.
            run.folder = open_folder(os.path.dirname(os.path.abspath(output)))
            try:
                real = os.path.join(real_path_of(run.folder, output), os.path.basename(output))
                refused = options.policy.problems(real, targets)
                if refused:
                    raise DeployUsageError("; ".join(refused))
                return run.converge(content)
            finally:
                os.close(run.folder)
    except OSError as error:
        say(f"Error: cannot deploy {output}: {one_line(error.strerror or str(error))}")
        return DeployResult(EXIT_FAILED)


def _print_dry_run(say: Callable[[str], None], text: str, output: str, targets: list[str]) -> None:
    say(f"dry run: would write {len(text.encode())} bytes to {output} (mode 0600)")
    say(f"--- {output} (secrets redacted)")
    for line in text.rstrip("\n").splitlines():
        say(f"  {line}")
    if not targets:
        say("no reload configured (spec.reload): nothing would be sent")
    for url in targets:
        say(
            f"would POST smtp-settings.reload to {url} "
            f"(webhook-id: deploy_<new random id>, webhook-signature: v1,{REDACTED})"
        )


@dataclass
class _Run:
    """One deploy of one output, done while holding its lock."""

    environment: str
    output: str
    targets: list[str]
    reload: ReloadConfig | None
    key: bytes | None
    options: DeployOptions
    say: Callable[[str], None]
    state: DeployState = field(default_factory=DeployState)
    revision: str | None = None
    repository: str | None = None
    folder: int | None = None  # the output's folder, opened under the lock
    deploy_id: str = field(default_factory=new_deploy_id)
    dirty: bool = False  # the work tree held uncommitted changes to what was rendered

    @property
    def name(self) -> str:
        """The output's name within ``folder``."""
        return os.path.basename(self.output)

    def digest(self, content: bytes | None) -> str | None:
        return config_digest(self.key, content) if self.key and content is not None else None

    def converge(self, content: bytes) -> DeployResult:
        if removed := remove_stale_temp_files(self.name, self.folder):
            self.say(f"removed {removed} temporary file(s) an interrupted write left beside it")
        self.state = load_state(self.name, self.folder)
        if self.state.problem:
            self.say(f"note: {self.state.problem}; treating it as no state")
        deployed = self.state.deployed
        if (
            self.revision is not None
            and deployed is not None
            and deployed.revision is not None
            and not self.options.allow_older
            and is_older(self.revision, deployed.revision, self.repository)
        ):
            self.say(
                f"Error: {self.environment}: revision {self.revision[:12]} is older than the "
                f"deployed {deployed.revision[:12]} (git knows it as an ancestor): refusing to "
                "take the nodes back; use --allow-older for a deliberate rollback, or deploy a "
                "revert commit"
            )
            return DeployResult(EXIT_FAILED)
        previous = _Previous.read(self.name, self.folder)
        digest = self.digest(content)
        shown = f" (configDigest {digest[:12]})" if digest else ""
        reload_targets = self.targets
        if previous.content == content and not self.options.force:
            reload_targets = self._not_running(digest)
            if self.reload is None or not reload_targets:
                self.say(f"{self.output} is unchanged{shown}; reload skipped (use --force to send)")
                return DeployResult(EXIT_OK, skipped=True)
            self.say(
                f"{self.output} is unchanged{shown}, but {len(reload_targets)} of "
                f"{len(self.targets)} node(s) do not confirm running it: sending the reload"
            )
        attempt = Attempt(
            deployId=self.deploy_id,
            environment=self.environment,
            configDigest=digest,
            previousDigest=self.digest(previous.content),
            revision=self.revision,
            dirty=self.dirty,
            targets=self.targets,
            startedAt=rfc3339(now_utc()),
            nodes={url: NodeRecord() for url in self.targets},
        )
        for url in self.targets:
            if url not in reload_targets:
                attempt.nodes[url] = NodeRecord(NODE_CONFIRMED, "already runs it (its status)")
        self.state.last = attempt
        with Interrupts() as interrupts:
            # Recorded before the write: if this process is killed from here on, the next
            # deploy sees an unfinished attempt and sends the reload.
            save_state(self.name, self.state, dir_fd=self.folder)
            try:
                if previous.content != content:
                    write_atomic(self.name, content, dir_fd=self.folder)
                    self.say(f"wrote {self.output}{shown}")
            except OSError as error:
                return self._finish(attempt, FAILED, EXIT_FAILED, f"cannot write: {error}")
            if self.reload is None or self.key is None:
                self.say("no reload configured (spec.reload): the portal must be reloaded by hand")
                return self._finish(attempt, SUCCEEDED, EXIT_OK)
            results = self._reload(attempt, interrupts, reload_targets)
            if all(r.ok for r in results) and interrupts.received is None:
                self.say(f"{self.environment}: {len(results)} node(s) reloaded")
                return self._finish(attempt, SUCCEEDED, EXIT_OK, nodes=results)
            return self._roll_back(attempt, previous, results, interrupts)

    def _policy(self) -> RetryPolicy:
        assert self.reload is not None
        policy = RetryPolicy(
            timeout=self.reload.timeoutSeconds,
            retries=self.reload.retries,
            backoff_base=self.options.backoff_base,
        )
        return policy if self.options.sleep is None else replace(policy, sleep=self.options.sleep)

    def _signed(self, deploy_id: str, digest: str | None, rollback_of: str | None) -> Signed:
        assert self.key is not None
        body = reload_body(
            self.environment,
            deploy_id,
            digest,
            self.state.last.revision if self.state.last else None,
            now_utc(),
            rollback_of=rollback_of,
        )
        return Signed(self.key, deploy_webhook_id(deploy_id), body, digest)

    def _not_running(self, digest: str | None) -> list[str]:
        """The nodes that do not confirm, by their signed status, that they run ``digest``:
        a node that restarted, lost its state or answered without proof is reloaded. Only a
        node's own word skips it, never the state file's memory of an earlier answer."""
        if self.reload is None or self.key is None or digest is None:
            return self.targets
        statuses = query_all(self.targets, self.key, self.reload.timeoutSeconds)
        return [
            status.url
            for status in statuses
            if not (
                status.reachable
                and status.reloaded is not None
                and status.reloaded.get("configDigest") == digest
            )
        ]

    def _reload(
        self, attempt: Attempt, interrupts: Interrupts, targets: list[str]
    ) -> list[NodeResult]:
        def record(result: NodeResult) -> None:
            status = NODE_FAILED
            if result.ok:
                status = NODE_CONFIRMED if result.confirmed else NODE_ACCEPTED
            attempt.nodes[result.url] = NodeRecord(status, result.summary)
            # Not fsynced per node (a power cut loses at most "pending", which re-sends).
            with contextlib.suppress(OSError):
                save_state(self.name, self.state, durable=False, dir_fd=self.folder)

        if interrupts.received is not None:
            results = [
                NodeResult(url, False, 0, None, "not sent: stopped by a signal", maybe_acted=False)
                for url in targets
            ]
        else:
            signed = self._signed(attempt.deployId, attempt.configDigest, None)
            results = deliver_all(
                targets, signed, self._policy(), on_result=record, interrupts=interrupts
            )
        for result in results:
            if result.ok:
                self.say(f"reloaded {result.url} ({result.summary})")
            else:
                self.say(f"FAILED {result.url}: {result.summary}")
        return results

    def _roll_back(
        self,
        attempt: Attempt,
        previous: _Previous,
        results: list[NodeResult],
        interrupts: Interrupts,
    ) -> DeployResult:
        if interrupts.received is not None:
            self.say(f"stopped by {interrupts.name}: rolling back")
        failed = sum(1 for r in results if not r.ok)
        try:
            previous.restore(self.name, self.folder)
        except OSError as error:
            self.say(f"Error: could not restore the previous {self.output}: {error.strerror}")
        else:
            if previous.content is None:
                self.say(f"rolled back: removed {self.output} (there was no previous file)")
            else:
                self.say(f"rolled back: restored the previous {self.output}")
        # Also a node that failed after the request may have reached it (a timeout, a 500, a
        # signal mid-request): a rollback reload to a node still on the previous config is
        # harmless, a node left on the new one is not.
        took = [r.url for r in results if r.maybe_acted]
        rollback: list[NodeResult] = []
        if took:
            rollback_id = new_deploy_id()
            signed = self._signed(rollback_id, attempt.previousDigest, attempt.deployId)
            rollback = deliver_all(took, signed, self._policy())
            for result in rollback:
                record = attempt.nodes[result.url]
                if result.ok:
                    record.status = NODE_ROLLED_BACK
                    self.say(f"rolled back {result.url} ({result.summary})")
                else:
                    record.status = NODE_ROLLBACK_FAILED
                    self.say(f"FAILED to roll back {result.url}: {result.summary}")
        stuck = [r.url for r in rollback if not r.ok]
        if stuck:
            self.say(
                f"{self.environment}: these node(s) may still run the new config: "
                + ", ".join(stuck)
            )
        why = f"stopped by {interrupts.name}" if interrupts.received else None
        if failed:
            self.say(f"{self.environment}: {failed} of {len(results)} node(s) failed to reload")
        outcome = ROLLBACK_FAILED if stuck else ROLLED_BACK
        return self._finish(attempt, outcome, EXIT_FAILED, why, results, rollback)

    def _finish(
        self,
        attempt: Attempt,
        outcome: str,
        code: int,
        why: str | None = None,
        nodes: list[NodeResult] | None = None,
        rollback: list[NodeResult] | None = None,
    ) -> DeployResult:
        attempt.result = outcome
        attempt.finishedAt = rfc3339(now_utc())
        if outcome == SUCCEEDED:
            self.state.deployed = Deployed(
                attempt.configDigest,
                attempt.deployId,
                attempt.revision,
                attempt.finishedAt,
                attempt.dirty,
            )
        if why:
            self.say(f"{self.environment}: deploy {outcome}: {one_line(why)}")
        try:
            save_state(self.name, self.state, dir_fd=self.folder)
            append_history(self.name, attempt, self.folder)
        except OSError as error:
            self.say(f"Error: could not record the deploy state: {error.strerror}")
            code = EXIT_FAILED
        return DeployResult(code, attempt.deployId, nodes or [], rollback or [])
