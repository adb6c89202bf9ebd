"""goalpath's benchmarks: ``python -m benchmarks [--quick] [--json FILE]`` runs them all.

Each benchmark module exposes ``NAME`` and ``run(quick: bool) -> list[Result]``;
figures that matter are ratios measured side by side in one run.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["Result"]


@attrs.frozen
class Result:
    """One measured figure of a benchmark."""

    benchmark: str
    case: str
    events: int
    seconds: float
    extra: dict[str, Any] = attrs.field(factory=dict)

    @property
    def per_second(self) -> float:
        """Events processed per second."""
        return self.events / self.seconds if self.seconds else float("inf")
