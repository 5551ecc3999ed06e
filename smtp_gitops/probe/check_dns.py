"""Will the mail arrive? For each set in use, the sender domain's SPF, DMARC, DKIM and MX,
checked against the provider its ``networkHost`` names. It reads DNS only, never sends mail.

Every lookup of a run goes through one ``Lookups``, concurrently, each name asked once, so many
environments on a few domains cost what those domains cost.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from smtp_gitops.probe.dns_lookup import Lookups
from smtp_gitops.probe.providers import Provider, provider_for
from smtp_gitops.probe.spf import MAX_LOOKUPS, Walk, permits, record_of, walk
from smtp_gitops.settings.model import AnySet, Settings, SmtpSetV2

ERROR, WARNING = "error", "warning"
SEVERITY = {
    "spf-missing": ERROR,
    "spf-multiple": ERROR,
    "spf-invalid": ERROR,
    "spf-not-authorized": ERROR,
    "spf-too-many-lookups": ERROR,
    "dmarc-missing": WARNING,
    "dmarc-invalid": ERROR,
    "dkim-missing": WARNING,
    "mx-missing": WARNING,
    "dns-error": ERROR,
}
DMARC_POLICIES = frozenset({"none", "quarantine", "reject"})


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    message: str
    hint: str | None = None

    @property
    def severity(self) -> str:
        return SEVERITY[self.kind]

    def to_json(self) -> dict[str, str | None]:
        return {**asdict(self), "severity": self.severity}


@dataclass
class SetReport:
    set: str
    categories: list[str]
    domain: str | None
    provider: str
    findings: list[Finding] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "set": self.set,
            "categories": self.categories,
            "domain": self.domain,
            "provider": self.provider,
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass
class EnvironmentReport:
    environment: str
    sets: list[SetReport] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"environment": self.environment, "sets": [s.to_json() for s in self.sets]}


def sets_in_use(settings: Settings, set_name: str | None) -> list[tuple[AnySet, list[str]]]:
    """Each distinct set a category uses (after the fallback to General), with its
    categories; or the set ``set_name``, enabled or not."""
    if set_name is not None:
        chosen = [s for s in settings.sets() if s.name == set_name]
        return [(s, [s.category]) for s in chosen]
    used: dict[str, tuple[AnySet, list[str]]] = {}
    for category, smtp_set in settings.effective_sets().items():
        if smtp_set is not None:
            used.setdefault(smtp_set.name, (smtp_set, []))[1].append(category)
    return list(used.values())


def sender_domain(smtp_set: AnySet) -> str | None:
    sender = smtp_set.email if isinstance(smtp_set, SmtpSetV2) and smtp_set.email else None
    address = sender or smtp_set.username
    if not address or "@" not in address:
        return None
    return address.rsplit("@", 1)[1].strip().lower().rstrip(".") or None


def organisational_domain(domain: str) -> str:
    """The registered domain under its public suffix (``mail.example.co.uk`` is
    ``example.co.uk``), from the Public Suffix List the package bundles (no download)."""
    found: str | None = _suffix_list().privatesuffix(domain)
    return found or domain


@functools.cache
def _suffix_list() -> Any:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


async def check_set(lookups: Lookups, smtp_set: AnySet, categories: list[str]) -> SetReport:
    provider = provider_for(smtp_set.networkHost)
    domain = sender_domain(smtp_set)
    report = SetReport(
        smtp_set.name,
        categories,
        domain,
        provider.name if provider else f"relay {smtp_set.networkHost}",
    )
    if domain is None:
        return report
    parts = await asyncio.gather(
        _spf(lookups, domain, provider, smtp_set.networkHost),
        _dmarc(lookups, domain),
        _dkim(lookups, domain, provider),
        _mx(lookups, domain),
    )
    for found in parts:
        report.findings.extend(found)
    return report


async def _spf(
    lookups: Lookups, domain: str, provider: Provider | None, host: str
) -> list[Finding]:
    if provider is not None and not provider.spf_on_sender:
        return []  # the provider's own bounce domain carries SPF: DKIM alignment matters here
    records, error = await record_of(lookups, domain)
    if error is not None:
        return [Finding("dns-error", f"could not check the SPF of {domain}: {error}")]
    needed = f"include:{provider.spf_include}" if provider else f"the addresses of {host}"
    if not records:
        return [
            Finding(
                "spf-missing",
                f"{domain} has no SPF record, so receivers cannot tell mail from {host} is real",
                f'add a TXT record at {domain}: "v=spf1 {_mechanism(provider, host)} ~all"',
            )
        ]
    if len(records) > 1:
        return [
            Finding(
                "spf-multiple",
                f"{domain} has {len(records)} SPF records: receivers treat that as a permanent "
                "error, as if it had none",
                "merge them into one v=spf1 record",
            )
        ]
    found = Walk()
    await walk(lookups, domain, found)
    findings = [Finding(kind, message, _FIX[kind]) for kind, message in found.problems]
    if found.errors:
        findings += [Finding("dns-error", f"could not check {e}") for e in found.errors]
        return findings
    if any(kind == "spf-invalid" for kind, _ in found.problems):
        return findings
    if found.lookups > MAX_LOOKUPS:
        findings.append(
            Finding(
                "spf-too-many-lookups",
                f"the SPF of {domain} needs {found.lookups} DNS lookups (includes, a, mx, "
                f"redirect, followed through); receivers stop at {MAX_LOOKUPS} with an error",
                "flatten an include into ip4/ip6 terms, or drop includes you no longer send "
                "through",
            )
        )
    if provider is not None:
        if provider.spf_include.lower() not in found.included:
            findings.append(
                Finding(
                    "spf-not-authorized",
                    f"the SPF of {domain} does not include {provider.spf_include}, so mail "
                    f"{provider.name} sends for it fails SPF",
                    f"add {needed} before the all term of the SPF record at {domain}",
                )
            )
        return findings
    findings += await _relay(lookups, domain, host)
    return findings


def _mechanism(provider: Provider | None, host: str) -> str:
    return f"include:{provider.spf_include}" if provider else f"a:{host}"


async def _relay(lookups: Lookups, domain: str, host: str) -> list[Finding]:
    answers = await asyncio.gather(lookups.query(host, "A"), lookups.query(host, "AAAA"))
    failed = [a.error for a in answers if a.error]
    if failed:
        return [Finding("dns-error", f"could not look up the relay {host}: {failed[0]}")]
    addresses = [address for answer in answers for address in answer.records]
    if not addresses:
        return [Finding("dns-error", f"could not check: the relay {host} has no address")]
    results = await asyncio.gather(*(permits(lookups, domain, a) for a in addresses))
    if any(result is None for result in results):
        return [Finding("dns-error", f"could not evaluate the SPF of {domain}")]
    refused = [a for a, ok in zip(addresses, results, strict=True) if not ok]
    if not refused:
        return []
    return [
        Finding(
            "spf-not-authorized",
            f"the SPF of {domain} does not permit the relay {host} "
            f"({', '.join(refused)}), so mail it sends fails SPF",
            f"add a:{host} (or ip4:/ip6: terms for {', '.join(refused)}) before the all term",
        )
    ]


async def _dmarc(lookups: Lookups, domain: str) -> list[Finding]:
    organisational = organisational_domain(domain)
    names = [f"_dmarc.{domain}"]
    if organisational != domain:
        names.append(f"_dmarc.{organisational}")
    answers = await asyncio.gather(*(lookups.query(name, "TXT") for name in names))
    for name, answer in zip(names, answers, strict=True):
        if answer.error is not None:
            return [Finding("dns-error", f"could not check the DMARC of {domain}: {answer.error}")]
        if not answer.records:
            continue
        for record in answer.records:
            tags = _dmarc_tags(record)
            if tags is None or tags.get("p") not in DMARC_POLICIES:
                return [
                    Finding(
                        "dmarc-invalid",
                        f"the DMARC record at {name} is not valid: it must start with v=DMARC1 "
                        "and have p=none, quarantine or reject",
                        f'publish "v=DMARC1; p=none; rua=mailto:dmarc@{organisational}" and '
                        "tighten p= once reports look clean",
                    )
                ]
        return []
    return [
        Finding(
            "dmarc-missing",
            f"neither {domain} nor {organisational} publishes DMARC; Gmail and Yahoo require it "
            "from bulk senders",
            f'add a TXT record at _dmarc.{organisational}: "v=DMARC1; p=none; '
            f'rua=mailto:dmarc@{organisational}"',
        )
    ]


def _dmarc_tags(record: str) -> dict[str, str] | None:
    parts = [part.strip() for part in record.split(";") if part.strip()]
    if not parts or parts[0].replace(" ", "") != "v=DMARC1":
        return None
    tags = {}
    for part in parts[1:]:
        name, _, value = part.partition("=")
        tags[name.strip().lower()] = value.strip().lower()
    return tags


async def _dkim(lookups: Lookups, domain: str, provider: Provider | None) -> list[Finding]:
    if provider is None or not provider.dkim_selectors:
        return []
    names = [f"{selector}._domainkey.{domain}" for selector in provider.dkim_selectors]
    answers = await asyncio.gather(
        *(lookups.query(name, kind) for name in names for kind in ("TXT", "CNAME"))
    )
    if any(answer.records for answer in answers):
        return []
    if any(answer.failed for answer in answers):
        error = next(a.error for a in answers if a.failed)
        return [Finding("dns-error", f"could not check the DKIM of {domain}: {error}")]
    shown = ", ".join(names)
    return [
        Finding(
            "dkim-missing",
            f"{provider.name} signs with DKIM selectors it publishes at {shown}, and none is "
            f"there for {domain}",
            f"turn DKIM signing on for {domain} in {provider.name} and publish the CNAME or TXT "
            "records it gives",
        )
    ]


async def _mx(lookups: Lookups, domain: str) -> list[Finding]:
    answers = await asyncio.gather(*(lookups.query(domain, t) for t in ("MX", "A", "AAAA")))
    if any(answer.records for answer in answers):
        return []
    if any(answer.failed for answer in answers):
        error = next(a.error for a in answers if a.failed)
        return [Finding("dns-error", f"could not check the MX of {domain}: {error}")]
    return [
        Finding(
            "mx-missing",
            f"{domain} has neither MX nor an address, so replies and bounces have nowhere to go",
            f"add an MX record for {domain} (or send from a domain that receives mail)",
        )
    ]


_FIX = {
    "spf-invalid": "fix the record: every term is a known mechanism (all, include, a, mx, ptr, "
    "ip4, ip6, exists) or modifier (redirect, exp)",
}


async def check_environments(
    environments: Sequence[tuple[str, Settings]],
    set_name: str | None,
    lookups: Lookups,
) -> list[EnvironmentReport]:
    lookups.start()
    reports = [EnvironmentReport(name) for name, _ in environments]
    jobs = []
    for report, (_, settings) in zip(reports, environments, strict=True):
        for smtp_set, categories in sets_in_use(settings, set_name):
            jobs.append((report, check_set(lookups, smtp_set, categories)))
    done = await asyncio.gather(*(job for _, job in jobs))
    for (report, _), result in zip(jobs, done, strict=True):
        report.sets.append(result)
    return reports


def run_checks(
    environments: Sequence[tuple[str, Settings]],
    set_name: str | None,
    lookups: Lookups,
) -> list[EnvironmentReport]:
    return asyncio.run(check_environments(environments, set_name, lookups))
