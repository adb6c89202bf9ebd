"""Progress charts a clinician would show a client: drawn with matplotlib, dated, labelled."""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any, cast

import pytest
from click.testing import CliRunner

from goalpath.cli.demo import build_demo
from goalpath.cli.main import cli
from goalpath.core.application import GoalpathApp, local_today
from goalpath.exports.charts import NothingToChartError, chart_figure, png_chart, text_chart
from goalpath.projections import Projections
from tests.strategies import CATALOG, GOAL_START, THERAPIST, TODAY, open_standard_episode


def png_size(data: bytes) -> tuple[int, int]:
    """The width and height a PNG file's header gives (after checking it is a PNG)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def demo() -> Iterator[tuple[GoalpathApp, dict[str, Any]]]:
    with GoalpathApp() as app:
        yield app, build_demo(app, local_today())


def test_every_demo_goal_with_a_measure_gets_a_labelled_dated_png(
    demo: tuple[GoalpathApp, dict[str, Any]],
) -> None:
    app, built = demo
    charted = 0
    with Projections(app) as projections:
        for goal_id in built["goal_ids"]:
            report = projections.progress(goal_id)
            if report.measure is None:
                with pytest.raises(NothingToChartError, match="no measure"):
                    png_chart(report)
                continue
            data = png_chart(report)
            assert png_size(data) == (640, 400)
            figure = chart_figure(report)
            (axes,) = figure.axes
            assert axes.get_title()
            assert report.statement.startswith(axes.get_title().rstrip("…"))
            assert axes.get_xlabel() == "date observed"
            assert axes.get_ylabel() == f"{report.measure.name} ({report.measure.unit})"
            legend = axes.get_legend()
            assert legend is not None
            labels = [text.get_text() for text in legend.get_texts()]
            assert "measurements" in labels
            if report.target is not None:
                assert "expected trajectory" in labels
                assert any(label.startswith("target ") for label in labels)
            assert [tick.get_text() for tick in axes.get_xticklabels()]  # dates on the axis
            charted += 1
    assert charted >= 2


def test_a_backdated_measurement_is_drawn_where_it_was_observed() -> None:
    with GoalpathApp(today=lambda: TODAY) as app:
        episode = open_standard_episode(app)
        goal = app.create_goal(episode, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
        app.record_measurement(
            goal, 2, observed_on=GOAL_START + timedelta(weeks=2), actor=THERAPIST
        )
        app.record_measurement(goal, 3, observed_on=GOAL_START, actor=THERAPIST)  # backdated
        with Projections(app) as projections:
            report = projections.progress(goal)
    (axes,) = chart_figure(report).axes
    measured = next(line for line in axes.get_lines() if line.get_label() == "measurements")
    xs, ys = (cast("Sequence[float]", values) for values in measured.get_data())
    assert list(ys) == [3, 2]
    assert list(xs) == sorted(xs)
    chart = text_chart(report)
    rows = [line for line in chart.splitlines() if "●" in line and "│" in line]
    # the higher, earlier value is to the left of the lower, later one
    assert rows[0].index("●") < rows[-1].index("●")


def test_the_command_refuses_a_png_for_a_goal_without_a_measure(tmp_path: Any) -> None:
    db = str(tmp_path / "chart.db")
    with GoalpathApp(db, today=lambda: TODAY) as app:
        episode = open_standard_episode(app)
        vague = app.create_goal(episode, CATALOG["vague"].definition, actor=THERAPIST)
    png = tmp_path / "vague.png"
    result = CliRunner().invoke(cli, ["--db", db, "progress", str(vague), "--png", str(png)])
    assert result.exit_code == 1
    assert "no measure" in result.stderr
    assert not png.exists()
