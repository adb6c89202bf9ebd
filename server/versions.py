"""Optimistic concurrency over HTTP: an aggregate's version is its ``ETag``.

Every goal and episode response carries ``ETag: "<version>"``; a command
given ``If-Match: "<version>"`` runs with that ``expected_version``, so a
change made meanwhile is refused (412, ``version-conflict``) instead of
overwritten.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from goalpath.server.problems import InvalidRequestError

__all__ = ["etag", "expected_version", "versioned_response"]


def etag(version: int) -> str:
    """The ``ETag`` of an aggregate at ``version``."""
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header names (``"3"``, ``W/"3"`` or ``3``); ``*`` is none."""
    if if_match is None or if_match.strip() in ("", "*"):
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 12:
        raise InvalidRequestError(
            f'If-Match must be the ETag of a goal or episode, such as "3"; got {if_match!r}',
            field="If-Match",
            accepted='an ETag such as "3"',
        )
    return int(tag)


def versioned_response(document: dict[str, Any], version: int, status: int = 200) -> JSONResponse:
    """A document as JSON, with the aggregate's version as its ``ETag``."""
    return JSONResponse(document, status_code=status, headers={"ETag": etag(version)})
