"""The committed OpenAPI document: ``python -m goalpath.server.openapi_document docs/openapi.json``.

The server serves the same document at ``/openapi.json``; a test checks
that the committed file equals what this module generates, so the file a
host generates its client from is never out of date.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from goalpath.server.app import build_api

__all__ = ["main", "openapi_document", "openapi_text"]


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the goalpath API (no store is opened to make it)."""
    return build_api().openapi()


def openapi_text() -> str:
    """The document as the committed file holds it: indented JSON and a final newline."""
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the document to the file given (or print it); return the exit status."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) > 1:
        sys.stderr.write("usage: python -m goalpath.server.openapi_document [FILE]\n")
        return 2
    if args:
        Path(args[0]).write_text(openapi_text(), encoding="utf-8")
    else:
        sys.stdout.write(openapi_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
