"""Keeping deleted content out of SQLite files: checkpoint the write-ahead log and empty it."""

from __future__ import annotations

import os
import sqlite3
import time
from typing import Final

from goalpath.core.errors import StoreError

__all__ = ["ErasureIncompleteError", "create_private_file", "truncate_write_ahead_log"]

ATTEMPTS: Final = 3


class ErasureIncompleteError(StoreError):
    """Deleted content may still be in the SQLite file: another connection kept old pages.

    The key was destroyed and the rows deleted, but the write-ahead log could
    not be copied back and emptied while another connection was reading an
    older snapshot. Close the other goalpath processes on this file and run
    ``goalpath audit purge`` (or :meth:`GoalpathApp.purge`) again.
    """


def truncate_write_ahead_log(connection: sqlite3.Connection, path: str) -> None:
    """Copy the write-ahead log into the database file and empty it, or raise.

    ``PRAGMA wal_checkpoint(TRUNCATE)`` waits (through the connection's busy
    timeout) for readers of older snapshots; if one still holds on, it is
    tried again, then reported: erasing without purging must not pass silently.
    """
    for attempt in range(ATTEMPTS):
        try:
            busy, _log_frames, _checkpointed = connection.execute(
                "PRAGMA wal_checkpoint(TRUNCATE)"
            ).fetchone()
        except sqlite3.Error as error:
            raise ErasureIncompleteError(
                f"the write-ahead log of {path} could not be emptied ({error}), so old pages "
                "(which may hold erased content) may still be in it; once the store is usable, "
                "run 'goalpath audit purge'."
            ) from error
        if not busy:
            return
        time.sleep(0.2 * (attempt + 1))
    raise ErasureIncompleteError(
        f"another connection to {path} is reading an older snapshot, so old pages (which may "
        "hold erased content) are still in its write-ahead log. Close the other goalpath "
        "processes on this file, then run 'goalpath audit purge'."
    )


def create_private_file(path: str) -> None:
    """Create a new store file readable and writable by its owner only.

    SQLite gives its write-ahead log and shared-memory files the same
    permissions, so the read models' decrypted copies are not world-readable.
    An existing file is left as it is.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise StoreError(f"cannot create the goalpath store {path}: {error}") from error
    os.close(descriptor)
