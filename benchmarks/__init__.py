"""goalpath's benchmarks: ``python -m benchmarks [--quick] [--json FILE]`` runs them all.

Each benchmark module exposes ``NAME`` and ``run(quick: bool) -> list[Result]``;
figures that matter are ratios measured side by side in one run. A module
whose name starts with ``_`` is a helper, not a benchmark.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["Result"]


@attrs.frozen
class Result:
    """One row of the benchmark table.

    ``events`` and ``seconds`` are goalpath's work and time (``per_second``
    derives from them). A row compared with a baseline also gives the
    figures as text (``goalpath``, ``baseline``), the ``ratio`` (median over
    the rounds, ``spread`` its range), the ``target`` as text and whether it
    ``holds``.
    """

    benchmark: str
    case: str
    events: int
    seconds: float
    extra: dict[str, Any] = attrs.field(factory=dict)
    goalpath: str = ""
    baseline: str = ""
    ratio: float | None = None
    spread: str = ""
    target: str = ""
    holds: bool | None = None

    @property
    def per_second(self) -> float:
        """Events processed per second."""
        return self.events / self.seconds if self.seconds else float("inf")
