"""Store: the resumable record of finished runs of a sweep (SQLite, one row per point and replication).

Each finished (point, replication) is committed at once, in one transaction,
so an interrupted sweep loses at most the runs in progress; rerunning the same
sweep finds them by key and skips them, and raising the number of replications
later reuses the earlier ones. A row is keyed by the point's *fingerprint* (a
hash of the resolved scenario text and the root seed) and the replication
index, so a changed scenario never reuses stale results. Values are pickled
and zlib-compressed; the store is written only by the process that collects
results (workers return their results to it).
"""
from __future__ import annotations

import hashlib
import pickle
import sqlite3
import zlib
from pathlib import Path
from typing import Any

__all__ = ["RunStore", "fingerprint"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    fingerprint TEXT NOT NULL,
    replication INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (fingerprint, replication)
)
"""


#: Bumped whenever the engine's results (random streams, model) or the stored replication change, so a
#: resumed sweep never mixes runs of two engines. 2: the one-event-per-station engine (issue 9).
MODEL_VERSION = 2


def fingerprint(scenario_text: str, seed: int) -> str:
    """A stable key for the runs of one resolved scenario under one root seed and one model version."""
    return hashlib.sha256(f"model {MODEL_VERSION}\n{seed}\n{scenario_text}".encode("utf-8")).hexdigest()[:24]


class RunStore:
    """A folder's ``runs.sqlite``: finished replications by (fingerprint, replication)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute(_SCHEMA)
        self._db.commit()

    def get(self, key: str, replication: int) -> Any | None:
        """The stored value, or ``None``."""
        row = self._db.execute("SELECT payload FROM runs WHERE fingerprint = ? AND replication = ?",
                               (key, replication)).fetchone()
        return None if row is None else pickle.loads(zlib.decompress(row[0]))

    def put(self, key: str, replication: int, value: Any) -> None:
        """Store a value and commit it at once."""
        payload = zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 6)
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?)", (key, replication, payload))

    def count(self) -> int:
        """Rows stored."""
        return int(self._db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
