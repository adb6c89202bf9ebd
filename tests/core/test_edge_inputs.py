"""Odd inputs are refused with typed errors, never a traceback, and never half-stored."""

from __future__ import annotations

import io
import itertools
import math
import re
import stat
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from goalpath.cli.main import cli
from goalpath.core import Actor, GoalDefinition, GoalpathApp, draft_definition, evaluate_smart
from goalpath.core.errors import InvalidValueError, LimitExceededError, StoreError
from goalpath.core.inputs import (
    DEFAULT_MAX_IMPORT_ROWS,
    MAX_LINE_LENGTH,
    MAX_NUMBER,
    SMALLEST_NUMBER,
    check_moment,
    check_number,
    parse_number,
    text_lines,
)
from goalpath.core.values import Measure, Target
from goalpath.projections import Projections
from goalpath.projections.progress import percent_of_way
from tests.postgres_support import PostgresTenant, require_postgres

TODAY = date(2026, 6, 1)
THERAPIST = Actor("therapist-7", "therapist")


@pytest.fixture
def app() -> GoalpathApp:
    return GoalpathApp(":memory:", today=lambda: TODAY)


def _episode(app: GoalpathApp) -> object:
    return app.open_episode(
        client_id="client-1",
        therapist_ids=["therapist-7"],
        opened_on=TODAY - timedelta(weeks=2),
        actor=THERAPIST,
    )


@pytest.mark.parametrize("start", [date(9999, 12, 30), date(1, 1, 1), date(2200, 1, 1)])
def test_dates_outside_the_accepted_years_are_refused(app: GoalpathApp, start: date) -> None:
    episode = _episode(app)
    with pytest.raises(InvalidValueError, match="accepted years"):
        app.create_goal(
            episode,  # type: ignore[arg-type]
            GoalDefinition(statement="I will walk every day after lunch", start_on=start),
            actor=THERAPIST,
        )
    assert app.list_goals(episode) == []  # type: ignore[arg-type]


def test_a_far_future_start_is_refused_through_the_cli(tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    runner = CliRunner()
    opened = runner.invoke(
        cli,
        ["--db", db, "episode", "open", "--client", "c", "--therapist", "t", "--actor", "t",
         "--json"],
    )  # fmt: skip
    episode = opened.stdout.split('"id": "')[1].split('"')[0]
    result = runner.invoke(
        cli,
        ["--db", db, "goal", "create", episode, "--statement", "I will walk every day after lunch",
         "--start", "9999-12-31", "--actor", "t"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "accepted years" in result.stderr
    shown = runner.invoke(cli, ["--db", db, "episode", "show", episode, "--json"])
    assert '"goal_ids": []' in shown.stdout


@pytest.mark.parametrize(("text", "fragment"), [("walk\udcff daily", "surrogates")])
def test_text_that_is_not_valid_utf8_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(InvalidValueError, match=fragment):
        GoalDefinition(statement=text, start_on=TODAY)


def test_a_number_too_large_for_a_float_is_refused(app: GoalpathApp) -> None:
    episode = _episode(app)
    definition = draft_definition(
        "I will reduce my panic attacks from 3 to 1 per week within 6 weeks by practising "
        "daily breathing exercises",
        TODAY - timedelta(weeks=1),
    )
    goal = app.create_goal(episode, definition, actor=THERAPIST, activate=True)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="too large"):
        app.record_measurement(goal, 10**400, actor=THERAPIST)
    assert app.goal_measurements(goal) == []


@pytest.mark.parametrize("actor", ["therapist-7", None, {"id": "t", "role": "therapist"}])
def test_episode_commands_refuse_a_missing_or_malformed_actor(
    app: GoalpathApp, actor: object
) -> None:
    episode = _episode(app)
    version = app.get_episode(episode).version  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="actor"):
        app.record_session(episode, actor=actor)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="actor"):
        app.assign_therapist(episode, "t2", actor=actor)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="actor"):
        app.close_episode(episode, reason="done", actor=actor)  # type: ignore[arg-type]
    assert app.get_episode(episode).version == version  # type: ignore[arg-type]


def test_statements_beyond_the_calendar_do_not_crash() -> None:
    definition = draft_definition(
        "reduce my panic attacks from 3 to 1 per week within 99999999 weeks", TODAY
    )
    report = evaluate_smart(definition)
    assert not report.time_bound.passed
    result = CliRunner().invoke(cli, ["smart", "walk daily", "--weeks", "99999999"])
    assert result.exit_code == 2
    assert "beyond the calendar" in result.stderr


def test_achievable_judges_a_jump_from_zero_against_the_target() -> None:
    implausible = draft_definition(
        "I will increase my social outings from 0 to 50 per week within 1 week by calling friends",
        TODAY,
    )
    assert not evaluate_smart(implausible).achievable.passed
    plausible = draft_definition(
        "I will increase my social outings from 0 to 1 per week within 8 weeks by calling friends",
        TODAY,
    )
    assert evaluate_smart(plausible).achievable.passed


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://root:hunter2@127.0.0.1:notaport/test",
        "postgresql://root:hunter2@[::1/test",
    ],
)
def test_malformed_database_urls_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(StoreError) as refused:
        GoalpathApp(url)
    assert "hunter2" not in str(refused.value)
    result = CliRunner().invoke(
        cli, ["--db", url, "goal", "show", "00000000-0000-0000-0000-000000000001"]
    )
    assert result.exit_code == 1
    assert "hunter2" not in result.output


def test_a_new_sqlite_store_is_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    with GoalpathApp(path) as app:
        _episode(app)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("bad_id", ["a\x00b", "client\n7", "tab\there"])
def test_ids_with_control_characters_are_refused(app: GoalpathApp, bad_id: str) -> None:
    with pytest.raises(InvalidValueError, match="control character"):
        Actor(bad_id, "therapist")
    with pytest.raises(InvalidValueError, match="control character"):
        app.open_episode(
            client_id=bad_id, therapist_ids=["therapist-7"], opened_on=TODAY, actor=THERAPIST
        )
    with pytest.raises(InvalidValueError, match="control character"):
        app.open_episode(client_id="c", therapist_ids=[bad_id], opened_on=TODAY, actor=THERAPIST)


# -- the input rules of goalpath.core.inputs, on the Python API (docs/inputs.md) ---------

_PANIC = draft_definition(
    "I will reduce my panic attacks from 3 to 1 per week within 6 weeks by practising "
    "daily breathing exercises",
    TODAY - timedelta(weeks=1),
)


def _goal(app: GoalpathApp) -> UUID:
    return app.create_goal(_episode(app), _PANIC, actor=THERAPIST, activate=True)  # type: ignore[arg-type]


def _refused_numbers() -> st.SearchStrategy[float]:
    """Floats goalpath refuses: not finite, over MAX_NUMBER, or below SMALLEST_NUMBER but not 0."""
    return st.one_of(
        st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324]),
        st.floats(min_value=MAX_NUMBER, exclude_min=True, allow_infinity=False),
        st.floats(max_value=-MAX_NUMBER, exclude_max=True, allow_infinity=False),
        st.floats(
            min_value=-SMALLEST_NUMBER, max_value=SMALLEST_NUMBER, exclude_min=True,
            exclude_max=True,
        ).filter(lambda number: number != 0),
    )  # fmt: skip


@settings(max_examples=40)
@given(number=_refused_numbers())
def test_numbers_outside_the_range_are_refused_everywhere(number: float) -> None:
    """Law: a number outside the accepted range is refused as a measurement, a baseline, a
    target and a range bound, with a typed error, and nothing is stored."""
    app = GoalpathApp(":memory:", today=lambda: TODAY)
    goal = _goal(app)
    version = app.get_goal(goal).version
    with pytest.raises(InvalidValueError) as refused:
        app.record_measurement(goal, number, actor=THERAPIST)
    assert refused.value.code == "invalid-value"
    assert refused.value.field == "value"
    for build in (
        lambda: Target(baseline=number, value=1, due_on=TODAY),
        lambda: Target(baseline=1, value=number, due_on=TODAY),
        lambda: Measure(name="steps", unit="steps", direction="increase", minimum=number),
    ):
        with pytest.raises(InvalidValueError):
            build()
    assert app.get_goal(goal).version == version


@settings(max_examples=60)
@given(text=st.text(max_size=12))
def test_only_ascii_decimal_text_is_read_as_a_number(text: str) -> None:
    """Law: parse_number accepts exactly ASCII decimal notation inside the range; what it
    accepts is what float() reads; everything else is a typed refusal."""
    decimal = re.fullmatch(
        r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", text.strip(" \t")
    )
    try:
        number = parse_number(text)
    except InvalidValueError:
        if decimal:
            size = abs(float(text))
            assert size > MAX_NUMBER or 0 < size < SMALLEST_NUMBER
        return
    assert decimal, text
    assert number == float(text)


@pytest.mark.parametrize(
    "text", ["1_0", "\u0661\u0660", "\uff11\uff10", "inf", "-nan", "1e400", "10 5"]
)
def test_numbers_python_would_read_are_refused(text: str) -> None:
    with pytest.raises(InvalidValueError, match=r"decimal digits|too large|finite"):
        parse_number(text)


def test_the_widest_accepted_target_keeps_progress_finite() -> None:
    """The range keeps every derived value finite: the edges of it give finite progress."""
    measure = Measure(name="steps", unit="steps", direction="increase")
    target = Target(baseline=-MAX_NUMBER, value=MAX_NUMBER, due_on=TODAY)
    assert math.isfinite(percent_of_way(measure, target, SMALLEST_NUMBER))
    tiny = Target(baseline=SMALLEST_NUMBER, value=math.nextafter(SMALLEST_NUMBER, 1), due_on=TODAY)
    assert math.isfinite(percent_of_way(measure, tiny, MAX_NUMBER))


_REFUSED_CHARACTERS = st.sampled_from(
    ["\u202e", "\u200b", "\u2066", "\ufeff", "\x00", "\x1b", "\u00a0", "\u2028", "\udcff",
     "\uff54", "\uff21", "\u2460", "\ufb01", "\ue000"]
)  # fmt: skip


@settings(max_examples=40)
@given(
    before=st.text(alphabet="abcdef-0123456789", max_size=5),
    character=_REFUSED_CHARACTERS,
    after=st.text(alphabet="abcdef-0123456789", max_size=5),
)
def test_identities_with_invisible_or_look_alike_characters_are_refused(
    before: str, character: str, after: str
) -> None:
    """Law: an id holding a control, format, bidirectional, non-plain space, undecodable or
    look-alike character is refused as an actor, a client and a therapist; nothing is stored."""
    identity = f"{before}{character}{after}"
    app = GoalpathApp(":memory:", today=lambda: TODAY)
    with pytest.raises(InvalidValueError):
        Actor(identity, "therapist")
    with pytest.raises(InvalidValueError):
        app.open_episode(client_id=identity, therapist_ids=["t"], opened_on=TODAY, actor=THERAPIST)
    with pytest.raises(InvalidValueError):
        app.open_episode(client_id="c", therapist_ids=[identity], opened_on=TODAY, actor=THERAPIST)
    assert list(app.iter_events()) == []


def test_identities_are_stored_in_normal_form_c() -> None:
    app = GoalpathApp(":memory:", today=lambda: TODAY)
    decomposed = "Jose\u0301"
    episode = app.open_episode(
        client_id=decomposed, therapist_ids=[decomposed], opened_on=TODAY,
        actor=Actor(decomposed, "supervisor"),
    )  # fmt: skip
    stored = app.get_episode(episode)
    assert stored.client_id == stored.therapist_ids[0] == "Jos\u00e9"
    assert Actor(decomposed, "therapist") == Actor("Jos\u00e9", "therapist")


@pytest.mark.parametrize("therapists", ["t1", b"t1", {"t1": 1}, 7])
def test_a_list_parameter_refuses_a_bare_string(therapists: object) -> None:
    app = GoalpathApp(":memory:", today=lambda: TODAY)
    with pytest.raises(InvalidValueError, match="list") as refused:
        app.open_episode(client_id="c", therapist_ids=therapists, actor=THERAPIST)  # type: ignore[arg-type]
    assert refused.value.field == "therapist id"
    with pytest.raises(InvalidValueError, match="list"):
        app.open_episode(client_id="c", therapist_ids=["t"], concerns="panic", actor=THERAPIST)
    assert list(app.iter_events()) == []


@pytest.mark.parametrize("tenant", ["acme\n", "", "Acme", "acme ", "\uff41cme", "a" * 41, 7])
def test_malformed_tenant_names_are_refused(tmp_path: Path, tenant: object) -> None:
    with pytest.raises(InvalidValueError, match="tenant name") as refused:
        GoalpathApp(tmp_path / "t.db", tenant=tenant)  # type: ignore[arg-type]
    assert refused.value.field == "tenant"
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_sqlite_tenant_is_refused_without_creating_it(tmp_path: Path) -> None:
    with GoalpathApp(tmp_path / "t.db", tenant="known"):
        pass
    before = sorted(path.name for path in tmp_path.iterdir())
    with pytest.raises(StoreError, match="no goalpath store") as refused:
        GoalpathApp(tmp_path / "t.db", tenant="unknown", create=False)
    assert refused.value.field == "tenant"
    assert sorted(path.name for path in tmp_path.iterdir()) == before
    GoalpathApp(tmp_path / "t.db", tenant="known", create=False).close()


def _schema_exists(url: str, schema: str) -> bool:
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (schema,)
        ).fetchone()
    return bool(row and row[0])


def test_an_unknown_postgres_tenant_is_refused_without_creating_it() -> None:
    url = require_postgres()
    tenant = PostgresTenant(url)
    try:
        with pytest.raises(StoreError, match="no goalpath store") as refused:
            GoalpathApp(url, tenant=tenant.tenant, master_key=tenant.master_key, create=False)
        assert refused.value.field == "tenant"
        assert not _schema_exists(url, tenant.schema)
        result = CliRunner().invoke(
            cli, ["--db", url, "--tenant", tenant.tenant, "plan", "show", "c"],
            env={"GOALPATH_KEY": tenant.master_key.to_text()},
        )  # fmt: skip
        assert result.exit_code == 1, result.output
        assert result.stderr.count("\n") == 1
        assert "no goalpath store" in result.stderr
        assert not _schema_exists(url, tenant.schema)
        GoalpathApp(url, tenant=tenant.tenant, master_key=tenant.master_key).close()
        GoalpathApp(url, tenant=tenant.tenant, master_key=tenant.master_key, create=False).close()
    finally:
        tenant.drop()


def test_an_import_over_its_row_limit_is_refused_without_reading_it_all(app: GoalpathApp) -> None:
    goal = _goal(app)
    day = TODAY - timedelta(days=1)
    with pytest.raises(LimitExceededError, match="more than 2 rows") as refused:
        app.import_measurements(goal, [(1, day, None)] * 3, actor=THERAPIST, max_rows=2)
    assert (refused.value.code, refused.value.limit) == ("limit-exceeded", 2)
    endless = itertools.repeat((1.0, day, None))  # refused after DEFAULT_MAX_IMPORT_ROWS + 1
    with pytest.raises(LimitExceededError, match=f"{DEFAULT_MAX_IMPORT_ROWS:,}"):
        app.import_measurements(goal, endless, actor=THERAPIST)
    with pytest.raises(LimitExceededError):
        app.import_measurements_of_goals(
            {goal: [(1, day, None)] * 2, _goal(app): [(1, day, None)]}, actor=THERAPIST, max_rows=2
        )
    with pytest.raises(InvalidValueError, match="list"):
        app.import_measurements(goal, "1,2026-05-01", actor=THERAPIST)  # type: ignore[arg-type]
    assert app.goal_measurements(goal) == []
    assert app.import_measurements(goal, [(1, day, None)] * 2, actor=THERAPIST, max_rows=2)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=14))),
        datetime(1900, 1, 1, tzinfo=timezone(timedelta(hours=5))),  # 1899 in UTC
        datetime(2026, 1, 1),  # no time zone  # noqa: DTZ001
    ],
)
def test_times_outside_the_accepted_years_are_refused(app: GoalpathApp, moment: datetime) -> None:
    with pytest.raises(InvalidValueError, match=r"accepted years|time zone"):
        check_moment("since", moment)
    with pytest.raises(InvalidValueError, match=r"accepted years|time zone"):
        app.access_log(principal=Actor("auditor-1", "auditor"), since=moment)
    assert list(app.iter_events()) == []


@settings(max_examples=40)
@given(
    text=st.text(st.characters(exclude_categories=["Cs"]), max_size=60),
    encoding=st.sampled_from([None, "utf-8", "utf-16", "utf-32-le"]),
    bom=st.booleans(),
    chunk_size=st.integers(1, 9),
)
def test_text_lines_decode_any_text_whatever_the_chunks(
    text: str, encoding: str | None, bom: bool, chunk_size: int
) -> None:
    """Law: text_lines gives back the text, line by line, however the stream is cut into
    chunks; a UTF-8 byte order mark is dropped."""
    data = text.encode(encoding or "utf-8")
    if bom and encoding is None:
        data = b"\xef\xbb\xbf" + data
    lines = list(text_lines(io.BytesIO(data), "f.csv", encoding, chunk_size=chunk_size))
    assert "".join(lines) == text
    assert all(line.endswith("\n") for line in lines[:-1])


@pytest.mark.parametrize("chunk_size", [1, 3, 65_536])
def test_an_undecodable_byte_is_refused_with_its_line(chunk_size: int) -> None:
    data = "value\n1\n2 caf\u00e9\n".encode("latin-1")
    with pytest.raises(InvalidValueError, match="byte 0xe9 on line 3") as refused:
        list(text_lines(io.BytesIO(data), "f.csv", chunk_size=chunk_size))
    assert refused.value.field == "f.csv"
    with pytest.raises(InvalidValueError, match="unknown text encoding"):
        list(text_lines(io.BytesIO(data), "f.csv", "klingon"))
    assert list(text_lines(io.BytesIO(data), "f.csv", "latin-1"))[2] == "2 caf\u00e9\n"


def test_a_line_over_the_limit_is_refused_without_reading_the_rest() -> None:
    endless = io.BufferedReader(io.BytesIO(b"x" * (MAX_LINE_LENGTH + 10) + b"\n" * 10))
    with pytest.raises(LimitExceededError, match="line 1"):
        list(text_lines(endless, "f.csv"))


@pytest.mark.parametrize("bad", ["t\udcff", "\uff54", "t\u202e", "t" * 201])
def test_read_filters_refuse_what_ids_refuse(tmp_path: Path, bad: str) -> None:
    """A read filter is an id: refused with a typed error, never handed to the store."""
    with GoalpathApp(tmp_path / "r.db", today=lambda: TODAY) as app, Projections(app) as read:
        _episode(app)
        reads: list[Callable[[], object]] = [
            lambda: read.episodes(client_id=bad),
            lambda: read.episodes(therapist_id=bad),
            lambda: read.goals(client_id=bad),
            lambda: read.goals(therapist_id=bad),
            lambda: read.plan_for_client(bad),
            lambda: read.reviews_due(bad),
            lambda: read.audit_log(actor_id=bad),
            lambda: read.audit_log(client_id=bad),
            lambda: read.caseload_outcomes(bad),
            lambda: app.access_log(principal=Actor("auditor-1", "auditor"), client_id=bad),
        ]
        for attempt in reads:
            with pytest.raises(InvalidValueError):
                attempt()
        assert [episode.client_id for episode in read.episodes(client_id="client-1")]


class _Float(float):
    """A float of another class (as numpy's ``float64`` is)."""


def _checked(value: object) -> tuple[str, object]:
    """What ``check_number`` makes of ``value``: the float it accepts, or why it refuses."""
    try:
        checked = check_number("value", value)
    except InvalidValueError as error:
        return ("refused", str(error))
    assert type(checked) is float
    return ("accepted", checked)


@settings(max_examples=80)
@given(number=st.floats() | st.integers(min_value=-(10**400), max_value=10**400))
def test_a_number_is_checked_alike_as_a_float_an_int_or_a_floats_subclass(
    number: float,
) -> None:
    """Law: a float of another class, or an int, is accepted or refused as the same value
    written as a float, and an accepted number is returned as a plain float."""
    if isinstance(number, float):
        assert _checked(_Float(number)) == _checked(number)
        return
    try:
        as_float = float(number)
    except OverflowError:
        assert _checked(number)[0] == "refused"
        assert "too large to be a measurement" in str(_checked(number)[1])
        return
    verdict, outcome = _checked(number)
    expected_verdict, expected = _checked(as_float)
    assert verdict == expected_verdict
    if verdict == "accepted":
        assert outcome == expected
