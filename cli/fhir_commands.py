"""Commands of the goalpath command line (placeholder until filled in)."""

from __future__ import annotations

import click

__all__ = ["register"]


def register(cli: click.Group) -> None:
    """Add this module's commands to the root group."""
