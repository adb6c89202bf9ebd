"""Who may do what: principals, the authorization policy and the built-in clinical policy.

A :class:`Principal` is the person or integration behind a call, as the host
system vouches for them: an id in the host, a role, and ``asserted_by``, the
host component that authenticated them (``"caller"`` when nobody did, as for
a bare :class:`~goalpath.core.values.Actor`). The application asks a
:class:`Policy` about every command and every read of a client's data before
it writes anything, giving the facts the decision needs as a
:class:`Subject`; a refusal names its rule.

The rules of :class:`ClinicalPolicy` (the default) follow clinical practice;
:data:`CLINICAL_RULES` states them as a table, the one docs/embedding.md
shows and the policy table test checks.
"""

from __future__ import annotations

from typing import Final, Literal, Protocol, get_args

import attrs

from goalpath.core.errors import InvalidValueError
from goalpath.core.values import Actor, text

__all__ = [
    "ACTIONS",
    "CLINICAL_RULES",
    "COMMANDS",
    "READS",
    "Action",
    "ClinicalPolicy",
    "Command",
    "Decision",
    "Policy",
    "Principal",
    "Read",
    "Subject",
    "as_principal",
]

Command = Literal[
    "open_episode",
    "record_session",
    "assign_therapist",
    "close_episode",
    "create_goal",
    "refine_goal",
    "activate_goal",
    "record_measurement",
    "import_measurements",
    "correct_measurement",
    "review_goal",
    "retire_goal",
    "erase_client",
]
"""Every command of :class:`~goalpath.core.application.GoalpathApp`, by its method name."""
COMMANDS: Final[tuple[str, ...]] = get_args(Command)

Read = Literal[
    "episode", "plan", "goal", "progress", "history", "audit-export", "fhir-export", "access-log"
]
"""Every kind of read of a client's data (or of the store's history) that is decided and logged."""
READS: Final[tuple[str, ...]] = get_args(Read)

Action = Command | Read
"""What a policy decides on: a command (which changes something) or a read."""
ACTIONS: Final[tuple[str, ...]] = COMMANDS + READS

UNAUTHENTICATED: Final = "caller"
"""``asserted_by`` of a principal nobody authenticated: the caller said who it was."""


@attrs.frozen
class Principal(Actor):
    """The person or integration behind a call, as the host vouches for them.

    A principal is an :class:`~goalpath.core.values.Actor` (so it goes
    wherever an actor is asked for) with the host's assertion of where it
    came from; the events its commands write record only the plain actor
    (:attr:`actor`), so stored events keep their shape.

    Attributes:
        id: their id in the host system (a user, a client record, an integration).
        role: ``client``, ``therapist``, ``supervisor``, ``auditor`` or ``system``.
        asserted_by: the host component that authenticated them, for example
            ``"clinic-portal-oidc"``; ``"caller"`` when nobody did. It is kept in
            the access log beside each read.
    """

    asserted_by: str = attrs.field(default=UNAUTHENTICATED, validator=text("asserted_by", 200))

    @property
    def actor(self) -> Actor:
        """The actor recorded in the events this principal's commands write."""
        return Actor(self.id, self.role)


def as_principal(value: object) -> Principal:
    """The principal behind a call: a :class:`Principal`, or an Actor the caller asserts.

    An :class:`~goalpath.core.values.Actor` is accepted as a principal asserted
    by the caller itself (``asserted_by="caller"``), and is decided by the same
    policy as any other principal.
    """
    if isinstance(value, Principal):
        return value
    if isinstance(value, Actor):
        return Principal(value.id, value.role)
    raise InvalidValueError(f"actor must be a Principal or an Actor (id and role); got {value!r}")


@attrs.frozen
class Subject:
    """What a command or read touches, as far as a policy needs to know.

    Attributes:
        client_id: the client whose data it is; ``None`` for the whole store
            (an audit export of every client, the access log of everyone).
        therapist_ids: the therapists assigned to the episode (for a client
            read, to any of the client's episodes).
        goal_stated_by: the role of whoever stated the goal, for goal commands.
        goal_status: the goal's lifecycle status before the command.
    """

    client_id: str | None = None
    therapist_ids: tuple[str, ...] = ()
    goal_stated_by: str | None = None
    goal_status: str | None = None

    @property
    def store_wide(self) -> bool:
        """Whether this is about the whole store rather than one client."""
        return self.client_id is None


@attrs.frozen
class Decision:
    """A policy's answer: allowed or not, by which rule, and why in a clinician's words."""

    allowed: bool
    rule: str
    explanation: str


class Policy(Protocol):
    """Decides whether a principal may take an action on a subject.

    A host may supply its own (``GoalpathApp(..., policy=...)``): any object
    with this method. It is called before anything is written, and must not
    raise for a refusal but return a :class:`Decision` with ``allowed=False``.
    """

    def decide(self, principal: Principal, action: Action, subject: Subject) -> Decision:
        """Return whether ``principal`` may take ``action`` on ``subject``, and by which rule."""
        ...


CLINICAL_RULES: Final[tuple[tuple[str, str], ...]] = (
    ("system", "every command and read: integrations and automated jobs, named system in history"),
    (
        "supervisor",
        (
            "every command and read on every episode, and the only person who assigns "
            "therapists and erases"
        ),
    ),
    (
        "therapist",
        (
            "every command except assigning and erasing, and every read but the access log, on "
            "the episodes they are assigned to; opens episodes (an intake) for any therapist"
        ),
    ),
    (
        "client",
        (
            "reads their own plan, goals, progress, history and FHIR export; states goals "
            "(proposed), refines their proposed goals, agrees to (activates) a goal a clinician "
            "stated, records their own measurements"
        ),
    ),
    ("auditor", "reads history, audit exports, FHIR exports and the access log; changes nothing"),
)
"""The built-in policy in words, one row per role (docs/embedding.md shows this table)."""

_CLINICIAN_COMMANDS: Final = frozenset(COMMANDS) - {"assign_therapist", "erase_client"}
_CLIENT_COMMANDS: Final = frozenset(
    {"create_goal", "refine_goal", "activate_goal", "record_measurement"}
)
_CLIENT_READS: Final = frozenset({"episode", "plan", "goal", "progress", "history", "fhir-export"})
_AUDITOR_READS: Final = frozenset({"history", "audit-export", "fhir-export", "access-log"})
_CLINICIANS: Final = frozenset({"therapist", "supervisor", "system"})


def _allow(rule: str, explanation: str) -> Decision:
    return Decision(allowed=True, rule=rule, explanation=explanation)


def _refuse(rule: str, explanation: str) -> Decision:
    return Decision(allowed=False, rule=rule, explanation=explanation)


class ClinicalPolicy:
    """The built-in policy: who may do what in clinical practice (see :data:`CLINICAL_RULES`).

    A therapist is assigned to an episode when their id is among its
    therapist ids; a client owns the data whose client id is theirs. A
    supervisor acts on every episode of the store (a store is one
    organisation); a host whose supervisors see only their team supplies its
    own policy.
    """

    def decide(self, principal: Principal, action: Action, subject: Subject) -> Decision:
        """Return whether ``principal`` may take ``action`` on ``subject``, and by which rule."""
        if action not in ACTIONS:
            raise InvalidValueError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
        match principal.role:
            case "system":
                return _allow("system-acts-for-integrations", "an integration acts on every record")
            case "supervisor":
                return _allow("supervisor-oversees", "a supervisor acts on every episode")
            case "auditor":
                return self._auditor(action)
            case "therapist":
                return self._therapist(principal, action, subject)
            case "client":
                return self._client(principal, action, subject)
        return _refuse("unknown-role", f"the role {principal.role} has no rights")

    @staticmethod
    def _auditor(action: Action) -> Decision:
        if action in _AUDITOR_READS:
            return _allow("auditor-reads-history", "an auditor reads history and exports")
        if action in READS:
            return _refuse(
                "auditor-reads-history-and-exports",
                "an auditor reads history, audit and FHIR exports and the access log, "
                "not the working plan",
            )
        return _refuse("auditor-changes-nothing", "an auditor changes nothing")

    @staticmethod
    def _therapist(principal: Principal, action: Action, subject: Subject) -> Decision:
        if action in ("assign_therapist", "erase_client"):
            return _refuse(
                "supervisor-assigns-and-erases",
                "assigning therapists and erasing a client need a supervisor",
            )
        if action == "access-log":
            return _refuse(
                "access-log-is-for-oversight",
                "the access log is read by auditors, supervisors and the system",
            )
        if action == "open_episode":
            # An intake: who takes the client on is decided by the therapist ids it names.
            return _allow("therapist-opens-episodes", "a therapist opens an episode of care")
        if subject.store_wide:
            return _refuse(
                "therapist-reads-own-caseload",
                "a therapist reads the clients they are assigned to, not the whole store",
            )
        if principal.id not in subject.therapist_ids:
            return _refuse(
                "therapist-acts-on-assigned-episodes",
                f"therapist {principal.id} is not assigned to this client's episode",
            )
        return _allow("therapist-acts-on-assigned-episodes", "the therapist is assigned")

    @staticmethod
    def _client(  # noqa: PLR0911  # one return per client rule reads best
        principal: Principal, action: Action, subject: Subject
    ) -> Decision:
        if subject.client_id != principal.id:
            return _refuse("client-acts-on-own-record", "a client acts on their own record only")
        if action in READS:
            if action in _CLIENT_READS:
                return _allow("client-reads-own-record", "a client reads their own record")
            return _refuse(
                "client-reads-own-record",
                "a client reads their own plan, goals, progress, history and FHIR export",
            )
        if action not in _CLIENT_COMMANDS:
            return _refuse(
                "client-may-not-" + action.replace("_", "-"),
                "a client states, refines and agrees to goals and records measurements; "
                "correcting, reviewing, retiring and episode changes are a clinician's",
            )
        if action == "refine_goal" and subject.goal_status != "proposed":
            return _refuse(
                "client-refines-proposed-goals",
                "a client refines a goal while it is proposed; an agreed goal is changed "
                "with the clinician",
            )
        if action == "activate_goal" and subject.goal_stated_by not in _CLINICIANS:
            return _refuse(
                "activation-needs-both-sides",
                "a goal a client stated becomes active when a clinician agrees to it",
            )
        return _allow("client-acts-on-own-goals", "a client acts on their own goals")
