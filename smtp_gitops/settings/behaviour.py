"""What a settings document answers beyond its fields: the effective set of each category, and
where a set's secret is written.

Written once, without pydantic, and shared by the pydantic model (``model.py``) and the light
view of a schema-valid document (``view.py``) that ``validate`` runs its rules on, so the two
cannot answer differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from smtp_gitops.settings.vocabulary import CATEGORIES, Category

if TYPE_CHECKING:
    from smtp_gitops.settings.credentials import Auth, OAuth2, Secret


class _Listed(Protocol):
    @property
    def enabled(self) -> bool: ...


class _Categorised(_Listed, Protocol):
    @property
    def category(self) -> Category: ...


AnyListed = TypeVar("AnyListed", bound=_Listed)
AnyCategorised = TypeVar("AnyCategorised", bound=_Categorised)
_Set_co = TypeVar("_Set_co", covariant=True)


class _Spec(Protocol[_Set_co]):
    @property
    def sets(self) -> Sequence[_Set_co]: ...


class _Document(Protocol[_Set_co]):
    """What the document answers are asked of: a ``spec`` with ``sets``. The model's documents
    and the view's records both are one, so the answers are typed by the set type of each."""

    @property
    def spec(self) -> _Spec[_Set_co]: ...


class SetBehaviour:
    """A v1 set: one login, a password, and no categories."""

    __slots__ = ()

    if TYPE_CHECKING:
        username: str | None
        password: Secret | None

    # The same questions asked of a v1 and a v2 set, so rules and rendering need not branch.
    @property
    def secret_path(self) -> tuple[str, ...]:
        """Where the secret is written, relative to the set."""
        return ("password",)

    @property
    def password_path(self) -> tuple[str, ...]:
        return ("password",)

    @property
    def category(self) -> Category:
        return "general"

    @property
    def sender(self) -> str | None:
        return self.username

    @property
    def secret(self) -> Secret | None:
        """The set's one secret: its password."""
        return self.password

    @property
    def secret_label(self) -> str:
        return "password"

    @property
    def oauth2(self) -> OAuth2 | None:
        return None


class SetV2Behaviour:
    """A v2 set: a category, a sender address, and ``auth`` (a password or OAuth 2.0)."""

    __slots__ = ()

    if TYPE_CHECKING:
        username: str | None
        email: str | None
        auth: Auth | None

    @property
    def password(self) -> Secret | None:
        return self.auth.password if self.auth is not None else None

    @property
    def oauth2(self) -> OAuth2 | None:
        return self.auth.oauth2 if self.auth is not None else None

    @property
    def sender(self) -> str | None:
        return self.email if self.email is not None else self.username

    @property
    def secret(self) -> Secret | None:
        """The set's one secret: the OAuth client secret, or else the password."""
        oauth2 = self.oauth2
        return oauth2.clientSecret if oauth2 is not None else self.password

    @property
    def secret_label(self) -> str:
        return "OAuth client secret" if self.oauth2 is not None else "password"

    @property
    def password_path(self) -> tuple[str, ...]:
        return ("auth", "password")

    @property
    def secret_path(self) -> tuple[str, ...]:
        if self.oauth2 is not None:
            return ("auth", "oauth2", "clientSecret")
        return ("auth", "password")


class SettingsFileBehaviour:
    """A v1 document: the first enabled set serves every use."""

    __slots__ = ()

    def effective_set(self: _Document[AnyListed]) -> AnyListed | None:
        """The set the portal uses: the first enabled one."""
        return next((s for s in self.spec.sets if s.enabled), None)

    def effective_sets(self: _Document[AnyListed]) -> dict[Category, AnyListed | None]:
        """v1 has no categories: the one effective set serves all of them."""
        return dict.fromkeys(CATEGORIES, next((s for s in self.spec.sets if s.enabled), None))


class SettingsFileV2Behaviour:
    """A v2 document: the first enabled set of each email category is the one used."""

    __slots__ = ()

    def effective_set(self: _Document[AnyCategorised]) -> AnyCategorised | None:
        """The General set: the first enabled set of category general."""
        return SettingsFileV2Behaviour.effective_sets(self)["general"]

    def effective_sets(
        self: _Document[AnyCategorised],
    ) -> dict[Category, AnyCategorised | None]:
        """The set used for each category; administration and notifications fall back to
        general when they have no enabled set of their own."""
        first: dict[Category, AnyCategorised | None] = dict.fromkeys(CATEGORIES)
        for smtp_set in self.spec.sets:
            if smtp_set.enabled and first[smtp_set.category] is None:
                first[smtp_set.category] = smtp_set
        general = first["general"]
        return {c: general if found is None else found for c, found in first.items()}
