"""SPF records (RFC 7208): parsing, the DNS-lookup count of §4.6.4, and evaluation for the
addresses a relay sends from, over the run's shared lookups."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from smtp_gitops.probe.dns_lookup import Lookups

MAX_LOOKUPS = 10
MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
QUERYING = frozenset({"include", "a", "mx", "ptr", "exists"})  # and the redirect modifier
# RFC 7208's own modifiers and RFC 6652's reporting ones; any other is refused as a typo.
MODIFIERS = frozenset({"redirect", "exp", "ra", "rp", "rr"})
_TERM = re.compile(r"^([+\-~?]?)([a-z0-9]+)(?:[:/](.*))?$")


class SpfInvalid(ValueError):
    """The record does not parse; the message names the term."""


@dataclass(frozen=True, slots=True)
class Term:
    qualifier: str
    mechanism: str
    value: str | None  # domain (with any /cidr) for a, mx, include, exists; network for ip4/6


@dataclass(frozen=True, slots=True)
class Record:
    terms: tuple[Term, ...]
    redirect: str | None = None


def spf_records(txt: tuple[str, ...]) -> list[str]:
    return [t for t in txt if t.lower() == "v=spf1" or t.lower().startswith("v=spf1 ")]


def parse(text: str) -> Record:
    terms: list[Term] = []
    redirect = None
    for word in text.split()[1:]:
        if "=" in word and ":" not in word.split("=", 1)[0]:
            name, _, value = word.partition("=")
            name = name.lower()
            if name not in MODIFIERS:
                raise SpfInvalid(f"unknown modifier {name!r}")
            if name == "redirect":
                redirect = value
            continue
        found = _TERM.match(word.lower())
        if found is None or found.group(2) not in MECHANISMS:
            raise SpfInvalid(f"unknown mechanism {word!r}")
        qualifier, mechanism, value = found.group(1) or "+", found.group(2), found.group(3)
        if mechanism in ("ip4", "ip6"):
            try:
                network = ipaddress.ip_network(value or "", strict=False)
            except ValueError:
                raise SpfInvalid(f"bad {mechanism} network {value!r}") from None
            if network.version != int(mechanism[-1]):
                raise SpfInvalid(f"{mechanism}:{value} is not an IPv{mechanism[-1]} network")
        elif mechanism in ("include", "exists") and not value:
            raise SpfInvalid(f"{mechanism} needs a domain")
        elif word.lower().startswith(f"{qualifier if found.group(1) else ''}{mechanism}/"):
            value = "/" + (value or "")  # a/24, mx/24: the domain is the record's own
        terms.append(Term(qualifier, mechanism, value))
    return Record(tuple(terms), redirect)


@dataclass
class Walk:
    """What following a domain's SPF record (its includes and redirect) found."""

    lookups: int = 0
    included: set[str] = field(default_factory=set)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)
    errors: list[str] = field(default_factory=list)  # the resolver could not say


async def record_of(lookups: Lookups, domain: str) -> tuple[list[str], str | None]:
    answer = await lookups.query(domain, "TXT")
    return spf_records(answer.records), answer.error


async def walk(lookups: Lookups, domain: str, found: Walk, depth: int = 0) -> None:
    """Count the DNS-querying terms and collect every domain included, through includes and
    redirect (each record fetched once)."""
    if depth > MAX_LOOKUPS + 1:
        return
    records, error = await record_of(lookups, domain)
    if error is not None:
        found.errors.append(f"SPF of {domain}: {error}")
        return
    if len(records) != 1:
        if depth > 0:
            what = "no SPF record" if not records else "more than one SPF record"
            found.problems.append(("spf-invalid", f"{domain} (included) has {what}"))
        return
    try:
        record = parse(records[0])
    except SpfInvalid as error:
        found.problems.append(("spf-invalid", f"SPF of {domain}: {error}"))
        return
    targets = []
    for term in record.terms:
        if term.mechanism in QUERYING:
            found.lookups += 1
        if term.mechanism == "include" and term.value:
            targets.append(term.value)
    if record.redirect and not any(t.mechanism == "all" for t in record.terms):
        found.lookups += 1
        targets.append(record.redirect)
    for target in targets:
        found.included.add(target.lower())
    for target in targets:
        await walk(lookups, target, found, depth + 1)


def _cidr(value: str | None, domain: str) -> tuple[str, int | None, int | None]:
    """The domain and the v4/v6 prefix lengths of an ``a`` or ``mx`` term."""
    text = value or ""
    name, _, cidr = text.partition("/")
    v4, _, v6 = cidr.partition("//")
    return name or domain, int(v4) if v4 else None, int(v6) if v6 else None


async def permits(lookups: Lookups, domain: str, address: str, depth: int = 0) -> bool | None:
    """Whether ``domain``'s SPF passes mail from ``address``; None when DNS could not say."""
    if depth > MAX_LOOKUPS:
        return False
    records, error = await record_of(lookups, domain)
    if error is not None:
        return None
    if len(records) != 1:
        return False
    try:
        record = parse(records[0])
    except SpfInvalid:
        return False
    ip = ipaddress.ip_address(address)
    for term in record.terms:
        matched = await _matches(lookups, term, domain, ip, depth)
        if matched is None:
            return None
        if matched:
            return term.qualifier == "+"
    if record.redirect:
        return await permits(lookups, record.redirect, address, depth + 1)
    return False


async def _matches(
    lookups: Lookups,
    term: Term,
    domain: str,
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
    depth: int,
) -> bool | None:
    if term.mechanism == "all":
        return True
    if term.mechanism in ("ip4", "ip6"):
        return ip in ipaddress.ip_network(term.value or "", strict=False)
    if term.mechanism == "include":
        result = await permits(lookups, term.value or "", str(ip), depth + 1)
        return result
    if term.mechanism in ("a", "mx"):
        name, v4, v6 = _cidr(term.value, domain)
        hosts = [name]
        if term.mechanism == "mx":
            answer = await lookups.query(name, "MX")
            if answer.failed:
                return None
            hosts = list(answer.records)
        for host in hosts:
            rdtype = "A" if ip.version == 4 else "AAAA"
            answer = await lookups.query(host, rdtype)
            if answer.failed:
                return None
            prefix = (v4 if ip.version == 4 else v6) or (32 if ip.version == 4 else 128)
            for found in answer.records:
                if ip in ipaddress.ip_network(f"{found}/{prefix}", strict=False):
                    return True
        return False
    return False  # ptr and exists are not evaluated: they cannot be what authorises a relay
