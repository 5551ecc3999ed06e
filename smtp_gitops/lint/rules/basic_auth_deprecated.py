"""A set logs in with a password to Exchange Online, Outlook.com or Gmail (v2).

Microsoft is retiring basic authentication (a password) for SMTP AUTH in Exchange Online and
Outlook.com: Exchange Online turns SMTP AUTH Basic off by default at the end of December 2026.
Google accepts passwords only as app passwords. Such a set stops sending mail when the provider
switches it off. Move it to ``auth.oauth2`` (client credentials; the portal logs in with
XOAUTH2), and check the new provider's SPF include and DKIM selectors with ``check-dns``. For
Gmail an app password also works.
"""

from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "basic-auth-deprecated", Severity.WARNING)

# Host -> (provider name, the `auth.oauth2.provider` to use, extra advice)
EXCHANGE_CUT_OVER = (
    "Exchange Online turns SMTP AUTH Basic off by default at the end of December 2026"
)
PASSWORD_RETIRING_HOSTS = {
    "smtp.office365.com": ("Exchange Online", "microsoft", " before the end of December 2026"),
    "smtp-mail.outlook.com": ("Outlook.com", "microsoft", ""),
    "smtp.gmail.com": ("Gmail", "google", ", or use a Google app password"),
}


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    if context.settings.apiVersion != "smtp-gitops/v2":
        return  # v1 cannot express OAuth 2.0; `smtp-gitops migrate` first
    for index, smtp_set in enumerate(context.settings.sets()):
        host = smtp_set.networkHost.lower().rstrip(".")
        if smtp_set.password is None or smtp_set.defaultCredentials:
            continue
        if host not in PASSWORD_RETIRING_HOSTS:
            continue
        provider, oauth_provider, extra = PASSWORD_RETIRING_HOSTS[host]
        yield context.report(
            RULE,
            ("spec", "sets", index, "auth", "password"),
            f"set {smtp_set.name!r} logs in to {provider} ({host}) with a password; "
            f"{provider} is retiring password (basic) authentication for SMTP"
            + ("; " + EXCHANGE_CUT_OVER if oauth_provider == "microsoft" else ""),
            hint=f"switch to `auth.oauth2` with `provider: {oauth_provider}`{extra}; "
            "then `smtp-gitops check-dns` for the provider's SPF include and DKIM selectors",
            key=True,
        )
