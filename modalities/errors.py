"""Typed errors of the modality plugins: each says what was wrong and what is accepted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from goalpath.core.errors import GoalpathError, InvalidValueError, NotSmartError

if TYPE_CHECKING:
    from goalpath.core.smart import SmartReport

__all__ = [
    "DuplicateContributionError",
    "InvalidContributionError",
    "InvalidTemplateError",
    "ModalityClaimedError",
    "ModalityError",
    "PluginLoadError",
    "ReservedIdError",
    "TemplateNotSmartError",
    "TemplateParameterError",
    "UnknownInstrumentError",
    "UnknownTemplateError",
]


class ModalityError(GoalpathError):
    """Base class of the errors raised by goalpath's modality plugins and templates."""

    code: ClassVar[str] = "plugin-failed"


class InvalidTemplateError(ModalityError, InvalidValueError):
    """A template, template parameter, instrument or intervention is malformed.

    Raised when such a value is built; a plugin building one in its hook
    sees it turned into an :class:`InvalidContributionError` naming the plugin.
    """


class PluginLoadError(ModalityError):
    """A plugin could not be loaded or one of its hooks failed.

    ``plugin`` is the plugin's name (its entry-point name).
    """

    def __init__(self, plugin: str, message: str) -> None:
        self.plugin = plugin
        super().__init__(f"plugin {plugin!r}: {message}")


class InvalidContributionError(PluginLoadError, InvalidValueError):
    """A plugin contributed an invalid template or measure; ``plugin`` names it."""


class DuplicateContributionError(ModalityError):
    """Two or more plugins claim the same template or instrument id.

    Neither claim is used: the id is refused for every claimant, whose other
    contributions stay available. ``plugins`` names all claimants.
    """

    def __init__(self, kind: str, item_id: str, plugins: Iterable[str]) -> None:
        self.kind = kind
        self.item_id = item_id
        self.plugins = tuple(plugins)
        names = " and ".join(repr(name) for name in self.plugins)
        super().__init__(
            f"{kind} id {item_id!r} is claimed by plugins {names}; neither is used. "
            f"Disable one of them (GOALPATH_DISABLED_PLUGINS) or ask its author to rename "
            f"the {kind}"
        )


class ModalityClaimedError(PluginLoadError):
    """A plugin added a template to a modality that is not its own; the template is not used.

    A modality belongs to one plugin: a built-in's to the built-in, one named
    like a plugin to that plugin, any other to its only claimant (and to no
    one when two plugins claim it). ``owners`` names who holds it.
    """

    def __init__(
        self, template_id: str, modality: str, plugin: str, owners: tuple[str, ...]
    ) -> None:
        self.template_id = template_id
        self.modality = modality
        self.owners = owners
        if len(owners) == 1:
            held = f"belongs to plugin {owners[0]!r}"
        else:
            held = f"is claimed by plugins {' and '.join(repr(name) for name in owners)}"
        super().__init__(
            plugin,
            f"template {template_id!r} is in the modality {modality!r}, which {held}; "
            "a modality belongs to one plugin: name your templates after your own modality",
        )


class ReservedIdError(PluginLoadError):
    """A plugin claimed a template or instrument id of a built-in plugin; the built-in keeps it."""

    def __init__(self, kind: str, item_id: str, plugin: str, owner: str) -> None:
        self.kind = kind
        self.item_id = item_id
        self.owner = owner
        super().__init__(
            plugin,
            f"{kind} id {item_id!r} belongs to goalpath's built-in plugin {owner!r}, which "
            "keeps it; give yours another id",
        )


class UnknownTemplateError(ModalityError, LookupError):
    """No loaded plugin provides a template with the given id."""

    code: ClassVar[str] = "not-found"

    def __init__(self, template_id: str, known: Iterable[str]) -> None:
        self.template_id = template_id
        known_ids = sorted(known)
        listing = ", ".join(known_ids) if known_ids else "none (no template plugin is loaded)"
        super().__init__(f"no template with id {template_id!r}; known templates: {listing}")

    def __str__(self) -> str:
        # LookupError would otherwise quote the message like a KeyError.
        return str(self.args[0])


class UnknownInstrumentError(ModalityError, LookupError):
    """No loaded plugin provides an instrument (standard measure) with the given id."""

    code: ClassVar[str] = "not-found"

    def __init__(self, instrument_id: str, known: Iterable[str]) -> None:
        self.instrument_id = instrument_id
        known_ids = sorted(known)
        listing = ", ".join(known_ids) if known_ids else "none"
        super().__init__(f"no instrument with id {instrument_id!r}; known instruments: {listing}")

    def __str__(self) -> str:
        return str(self.args[0])


class TemplateParameterError(ModalityError, InvalidValueError):
    """A template was given an unknown parameter, a value of the wrong type or out of range."""


class TemplateNotSmartError(TemplateParameterError, NotSmartError):
    """A template's parameters give a goal that is not SMART; ``report`` says why."""

    def __init__(self, message: str, report: SmartReport) -> None:
        TemplateParameterError.__init__(self, message)
        self.report = report
