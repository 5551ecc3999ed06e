"""A password or OAuth client secret is written as a literal string.

Anything committed to git is readable by everyone with the repository and stays in its history.
Reference the secret instead: ``{fromEnv: VARIABLE}`` or ``{fromFile: /run/secrets/name}``;
``render`` and ``deploy`` resolve it at deploy time. This covers ``password`` (v1),
``auth.password`` and ``auth.oauth2.clientSecret`` (v2). The message never repeats the value.
"""

from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.diagnostics import Diagnostic, Severity
from smtp_gitops.settings.yamlnodes import Node, ScalarNode, SeqNode, get

RULE = rule(__doc__, "plaintext-secret", Severity.ERROR)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    for index, smtp_set in enumerate(context.settings.sets()):
        stem = f"SMTP_{smtp_set.name.upper().replace('-', '_')}"
        oauth2 = smtp_set.oauth2
        if oauth2 is not None and isinstance(oauth2.clientSecret, str):
            yield context.report(
                RULE,
                ("spec", "sets", index, "auth", "oauth2", "clientSecret"),
                f"set {smtp_set.name!r} has a literal OAuth client secret; "
                "secrets must not be committed",
                hint=f"use `clientSecret: {{fromEnv: {stem}_CLIENT_SECRET}}` "
                "and rotate the exposed secret",
            )
        if isinstance(smtp_set.password, str):
            yield context.report(
                RULE,
                ("spec", "sets", index, *smtp_set.password_path),
                f"set {smtp_set.name!r} has a literal password; secrets must not be committed",
                hint=f"use `password: {{fromEnv: {stem}_PASSWORD}}` "
                "and rotate the exposed password",
            )


# Where a literal secret can sit in a set, v1 and v2 alike, with what it is called.
_SECRET_PLACES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("password",), "password"),
    (("auth", "password"), "password"),
    (("auth", "oauth2", "clientSecret"), "OAuth client secret"),
)


def check_tree(root: Node) -> Iterator[Diagnostic]:
    """The same finding on a document that failed the schema, read from its nodes: a literal
    secret is the most important finding of a pull request, and must not wait for the next
    push because a port is quoted."""
    sets = get(root, ("spec", "sets"))
    if not isinstance(sets, SeqNode):
        return
    for item in sets.items:
        name = get(item, ("name",))
        label = name.value if isinstance(name, ScalarNode) else "?"
        for path, what in _SECRET_PLACES:
            value = get(item, path)
            if isinstance(value, ScalarNode) and isinstance(value.value, str):
                yield RULE.diagnostic(
                    value.mark,
                    f"set {label!r} has a literal {what}; secrets must not be committed",
                    hint="use a secret reference ({fromEnv: NAME}) and rotate the exposed one",
                    end=value.end,
                )
