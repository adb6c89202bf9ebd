"""Every odd input at the command line's edges: refused in one line on stderr, the store untouched.

Each case runs the real command line (click's runner, as the other CLI
tests do) on a store with one episode and one active goal, and checks
what a script and a clinician see: exit 1 (a refusal) or 2 (usage), exactly
one line on stderr naming what was wrong, no traceback, and every file of
the store byte-identical before and after. docs/inputs.md lists the rules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from goalpath.cli.main import cli
from goalpath.core.application import local_today
from goalpath.core.inputs import DEFAULT_MAX_IMPORT_ROWS

PANIC = (
    "I will reduce my panic attacks from 3 to 1 per week within 6 weeks "
    "by practising daily breathing exercises"
)


@dataclass(frozen=True)
class Store:
    """A store with one episode (client c, therapist t) and one active goal."""

    folder: Path
    episode: str
    goal: str

    @property
    def db(self) -> str:
        return str(self.folder / "s.db")

    def fingerprint(self) -> dict[str, str]:
        """Every file of the store (events, key file, tenants' files), by name and content."""
        return {
            path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(self.folder.iterdir())
            if path.name.startswith("s.")
        }


def _invoke(args: Sequence[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env={"GOALPATH_ACTOR": "t", **(env or {})})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    folder = tmp_path_factory.mktemp("edges")
    db = str(folder / "s.db")
    start = (local_today() - timedelta(weeks=4)).isoformat()
    opened = _invoke(
        ["--db", db, "episode", "open", "--client", "c", "--therapist", "t", "--on", start,
         "--json"]
    )  # fmt: skip
    episode = json.loads(opened.stdout)["id"]
    created = _invoke(
        ["--db", db, "goal", "create", episode, "--statement", PANIC, "--start", start,
         "--activate", "--json"]
    )  # fmt: skip
    return Store(folder, episode, json.loads(created.stdout)["id"])


def _refused(
    store: Store,
    args: Sequence[str],
    fragment: str,
    *,
    code: int = 1,
    env: dict[str, str] | None = None,
) -> Result:
    """Run ``args`` on the store; assert a one-line refusal naming ``fragment``, store unchanged."""
    before = store.fingerprint()
    filled = [arg.format(goal=store.goal, episode=store.episode) for arg in args]
    result = _invoke(["--db", store.db, *filled], env)
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("goalpath: "), lines
    assert fragment in lines[0], lines[0]
    assert store.fingerprint() == before
    return result


# -- numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1e308", "too large"),
        ("-1e308", "too large"),
        ("1e-300", "too small"),
        ("1_0", "decimal digits 0-9"),
        ("\u0662", "decimal digits 0-9"),  # ARABIC-INDIC DIGIT TWO
        ("\uff12", "decimal digits 0-9"),  # FULLWIDTH DIGIT TWO
        ("inf", "finite"),
        ("nan", "finite"),
        ("0x10", "decimal digits 0-9"),
    ],
)
def test_a_measurement_outside_ascii_decimal_or_the_range_is_refused(
    store: Store, value: str, fragment: str
) -> None:
    _refused(store, ["goal", "measure", "{goal}", value], fragment)


def test_a_baseline_and_target_whose_distance_would_overflow_are_refused(store: Store) -> None:
    _refused(
        store,
        ["goal", "create", "{episode}", "--statement", "I will walk more steps each day",
         "--measure", "steps", "--unit", "steps", "--direction", "increase",
         "--baseline", "-1e308", "--target", "1e308", "--weeks", "6"],
        "too large",
    )  # fmt: skip


def test_a_corrected_value_follows_the_same_rules(store: Store) -> None:
    _refused(store, ["goal", "correct", "{goal}", "1", "--value", "1_0", "--reason", "typo"], "0-9")


def test_progress_json_stays_valid_json_at_the_edge_of_the_range(tmp_path: Path) -> None:
    """The largest accepted numbers still give finite progress: valid JSON, no Infinity/NaN."""
    db = str(tmp_path / "wide.db")
    start = (local_today() - timedelta(weeks=2)).isoformat()
    opened = _invoke(
        ["--db", db, "episode", "open", "--client", "c", "--therapist", "t", "--on", start,
         "--json"]
    )  # fmt: skip
    created = _invoke(
        ["--db", db, "goal", "create", json.loads(opened.stdout)["id"], "--statement",
         "I will walk more steps each day", "--measure", "steps", "--unit", "steps",
         "--direction", "increase", "--baseline", "-1e9", "--target", "1e9", "--weeks", "6",
         "--start", start, "--activate", "--json"]
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    goal = json.loads(created.stdout)["id"]
    measured = _invoke(["--db", db, "goal", "measure", goal, "0.000001"])
    assert measured.exit_code == 0, measured.output
    progress = _invoke(["--db", db, "progress", goal, "--json"])
    assert progress.exit_code == 0, progress.output
    json.loads(progress.stdout, parse_constant=_no_constant)


def _no_constant(name: str) -> None:
    raise AssertionError(f"{name} in a JSON document")


# -- identities -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "identity",
    [
        "t\u202e",  # RIGHT-TO-LEFT OVERRIDE
        "t\u200b",  # ZERO WIDTH SPACE
        "\uff54",  # FULLWIDTH LATIN SMALL LETTER T: looks like t
        "t\u00a0",  # NO-BREAK SPACE
        "t\x07",
        "t" * 201,
    ],
)
def test_an_identity_with_invisible_or_look_alike_characters_is_refused(
    store: Store, identity: str
) -> None:
    fragment = "200" if len(identity) > 200 else "U+"
    _refused(store, ["episode", "session", "{episode}", "--actor", identity], fragment)
    _refused(store, ["episode", "open", "--client", identity, "--therapist", "t"], fragment)
    _refused(store, ["episode", "open", "--client", "c", "--therapist", identity], fragment)
    _refused(store, ["episode", "assign", "{episode}", identity], fragment)


def test_an_identity_from_the_environment_is_checked_too(store: Store) -> None:
    _refused(store, ["episode", "session", "{episode}"], "U+FF54", env={"GOALPATH_ACTOR": "\uff54"})


def test_a_refused_identity_with_json_is_the_error_document(store: Store) -> None:
    result = _refused(
        store, ["episode", "session", "{episode}", "--actor", "\uff54", "--json"], "U+FF54"
    )
    error = json.loads(result.stdout)["error"]
    assert (error["code"], error["field"]) == ("invalid-value", "--actor")


# -- read filters ---------------------------------------------------------------------

UNDECODABLE = "t\udcff"
"""An argument with the byte 0xff, as Python decodes a command line that is not UTF-8."""


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "show", UNDECODABLE],
        ["reviews", "due", "--therapist", UNDECODABLE],
        ["audit", "log", "--actor", UNDECODABLE],
        ["audit", "log", "--client", UNDECODABLE],
        ["episode", "list", "--therapist", UNDECODABLE],
        ["goal", "list", "--client", UNDECODABLE],
        ["outcomes", "--therapist", UNDECODABLE],
        ["audit", "access", "--actor", UNDECODABLE],
    ],
)
def test_a_read_filter_with_an_undecodable_byte_is_refused(store: Store, args: list[str]) -> None:
    _refused(store, args, "not valid text")


def test_a_read_filter_over_the_id_length_is_refused(store: Store) -> None:
    _refused(store, ["reviews", "due", "--therapist", "t" * 201], "at most 200")


# -- times ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "zone"),
    [
        (["audit", "log", "--since", "0001-01-01"], "UTC"),
        (["audit", "log", "--since", "9999-12-31T23:59:59-14:00"], "UTC"),
        (["plan", "show", "c", "--as-of", "0001-01-01T00:00:00"], "UTC"),
        (["plan", "show", "c", "--as-of", "9999-12-31"], "America/New_York"),
        (["plan", "show", "c", "--as-of", "9999-12-31"], "Asia/Tokyo"),
        (["goal", "show", "{goal}", "--as-of", "2200-01-01T00:00:00+00:00"], "UTC"),
        (["audit", "access", "--since", "1899-12-31"], "UTC"),
    ],
)
def test_a_time_outside_the_accepted_years_is_refused(
    store: Store, args: list[str], zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", zone)
    _refused(store, args, "accepted years")


# -- tenants --------------------------------------------------------------------------


@pytest.mark.parametrize("tenant", ["acme\n", "", "Acme", "acme ", "\uff41cme", "a" * 41])
def test_a_malformed_tenant_name_is_refused(store: Store, tenant: str) -> None:
    _refused(
        store,
        ["--tenant", tenant, "episode", "open", "--client", "c", "--therapist", "t"],
        "tenant name",
    )
    _refused(store, ["--tenant", tenant, "goal", "show", "{goal}"], "tenant name")


def test_an_unknown_tenant_is_refused_on_a_read_and_no_store_is_made(store: Store) -> None:
    _refused(store, ["--tenant", "nosuch", "plan", "show", "c"], "no goalpath store")
    _refused(store, ["goal", "show", "{goal}", "--tenant", "nosuch"], "no goalpath store")
    assert not any("nosuch" in path.name for path in store.folder.iterdir())


# -- CSV files ------------------------------------------------------------------------

DAY = (local_today() - timedelta(days=7)).isoformat()


def _file(store: Store, name: str, data: bytes) -> str:
    path = store.folder / "files" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        (
            "latin1.csv",
            f"value,observed_on,note\n2,{DAY},caf\xe9\n".encode("latin-1"),
            "byte 0xe9 on line 2",
        ),
        (
            "cp1252.csv",
            f"value,observed_on,note\n2,{DAY},\u201cquoted\u201d\n".encode("cp1252"),
            "byte 0x93",
        ),
        ("utf16.csv", f"value,observed_on\n2,{DAY}\n".encode("utf-16"), "not utf-8 text"),
        ("one-field.csv", b"value,observed_on\n2\n", "line 2 of"),
        (
            "huge-field.csv",
            f"value,observed_on,note\n2,{DAY},{'x' * 131_073}\n".encode(),
            "longer than",
        ),
        (
            "long-note.csv",
            f"value,observed_on,note\n2,{DAY},{'x' * 4_001}\n".encode(),
            "4,000 characters",
        ),
        ("value-twice.csv", f"value,observed_on,value\n2,{DAY},3\n".encode(), "twice"),
        ("extra-column.csv", f"value,observed_on,mood\n2,{DAY},calm\n".encode(), "does not know"),
        ("missing-column.csv", b"value\n2\n", "missing observed_on"),
        (
            "open-quote.csv",
            f'value,observed_on,note\n2,{DAY},"unterminated\n'.encode(),
            "not closed",
        ),
        ("stray-quote.csv", f'value,observed_on,note\n2,{DAY},"a"b\n'.encode(), "not well-formed"),
        ("underscore.csv", f"value,observed_on\n1_0,{DAY}\n".encode(), "decimal digits 0-9"),
        ("arabic.csv", f"value,observed_on\n\u0662,{DAY}\n".encode(), "decimal digits 0-9"),
        ("fullwidth.csv", f"value,observed_on\n\uff12,{DAY}\n".encode(), "decimal digits 0-9"),
        ("too-large.csv", f"value,observed_on\n1e308,{DAY}\n".encode(), "too large"),
        ("bad-date.csv", b"value,observed_on\n2,01/05/2026\n", "YYYY-MM-DD"),
        ("empty.csv", b"", "empty"),
    ],
)
def test_a_malformed_csv_file_is_refused_whole(
    store: Store, name: str, data: bytes, fragment: str
) -> None:
    _refused(store, ["goal", "import", "{goal}", _file(store, name, data)], fragment)


def test_an_import_over_the_row_limit_is_refused_naming_the_limit(store: Store) -> None:
    rows = "".join(f"2,{DAY}\n" for _ in range(DEFAULT_MAX_IMPORT_ROWS + 1))
    path = _file(store, "many.csv", f"value,observed_on\n{rows}".encode())
    _refused(
        store, ["goal", "import", "{goal}", path], f"more than {DEFAULT_MAX_IMPORT_ROWS:,} rows"
    )
    _refused(store, ["goal", "import", "{goal}", path, "--max-rows", "3"], "more than 3 rows")
    _refused(store, ["goal", "import", "{goal}", path, "--max-rows", "0"], "--max-rows", code=2)


def test_an_unknown_encoding_is_refused(store: Store) -> None:
    path = _file(store, "plain.csv", f"value,observed_on\n2,{DAY}\n".encode())
    _refused(
        store, ["goal", "import", "{goal}", path, "--encoding", "klingon"], "unknown text encoding"
    )


@pytest.mark.parametrize(
    ("name", "data", "encoding"),
    [
        ("bom.csv", f"\ufeffvalue,observed_on,note\n2,{DAY},caf\u00e9\n".encode(), None),
        (
            "cp1252.csv",
            f"value,observed_on,note\r\n2,{DAY},caf\u00e9\r\n".encode("cp1252"),
            "cp1252",
        ),
        ("utf16.csv", f"value,observed_on,note\n2,{DAY},caf\u00e9\n".encode("utf-16"), "utf-16"),
        ("spaced.csv", f" value , observed_on ,note\n 2 ,{DAY},caf\u00e9\n\n".encode(), None),
    ],
)
def test_a_csv_file_with_a_bom_or_a_named_encoding_is_imported(
    tmp_path: Path, name: str, data: bytes, encoding: str | None
) -> None:
    """A spreadsheet's UTF-8 with a byte order mark is accepted, and any encoding named."""
    db = str(tmp_path / "bom.db")
    start = (local_today() - timedelta(weeks=4)).isoformat()
    opened = _invoke(
        ["--db", db, "episode", "open", "--client", "c", "--therapist", "t", "--on", start,
         "--json"]
    )  # fmt: skip
    created = _invoke(
        ["--db", db, "goal", "create", json.loads(opened.stdout)["id"], "--statement", PANIC,
         "--start", start, "--activate", "--json"]
    )  # fmt: skip
    path = tmp_path / name
    path.write_bytes(data)
    named = [] if encoding is None else ["--encoding", encoding]
    result = _invoke(
        ["--db", db, "goal", "import", json.loads(created.stdout)["id"], str(path), *named,
         "--json"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["imported"] == [1]
    assert document["recent_measurements"][0]["value"] == 2.0
    assert document["recent_measurements"][0]["note"] == "caf\u00e9"
