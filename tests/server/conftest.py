"""Fixtures of the server tests: one token issuer (its keys made once per session)."""

from __future__ import annotations

import pytest

from tests.server.support import Issuer


@pytest.fixture(scope="session")
def issuer() -> Issuer:
    """The test issuer, with freshly generated RSA, EC and Ed25519 keys."""
    return Issuer()
