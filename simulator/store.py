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

import contextlib
import hashlib
import pickle
import sqlite3
import zlib
from pathlib import Path
from typing import Any, Iterator

from .errors import ExperimentError

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
    """A stable key for the runs of one resolved scenario under one root seed and one model version.

    Parameters
    ----------
    scenario_text : str
        The resolved scenario as TOML (:func:`simulator.scenario.dump_scenario`).
    seed : int
        The root seed.

    Returns
    -------
    str
        24 hexadecimal digits of a SHA-256 hash.
    """
    return hashlib.sha256(f"model {MODEL_VERSION}\n{seed}\n{scenario_text}".encode("utf-8")).hexdigest()[:24]


class RunStore:
    """A folder's ``runs.sqlite``: finished replications by (fingerprint, replication).

    Every database error (a read-only folder, a full disk, a damaged file)
    becomes an :class:`~simulator.errors.ExperimentError` naming the file and
    what failed; what was committed before stays.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        with self._failing("open the run store"):
            self._db = sqlite3.connect(self.path)
            self._db.execute(_SCHEMA)
            self._db.commit()

    @contextlib.contextmanager
    def _failing(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as err:
            reason = str(err)
            if "full" in reason:
                reason = "no space left on the device"
            raise ExperimentError(f"{self.path}: cannot {what}: {reason}") from None

    @property
    def db(self) -> sqlite3.Connection:
        """The open connection."""
        assert self._db is not None, "the run store is closed"
        return self._db

    def get(self, key: str, replication: int) -> Any | None:
        """The stored value, or ``None``."""
        with self._failing("read a stored run"):
            row = self.db.execute("SELECT payload FROM runs WHERE fingerprint = ? AND replication = ?",
                                  (key, replication)).fetchone()
        return None if row is None else pickle.loads(zlib.decompress(row[0]))

    def put(self, key: str, replication: int, value: Any) -> None:
        """Store a value and commit it at once."""
        payload = zlib.compress(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), 6)
        with self._failing("store a finished run (the runs stored before it are kept)"), self.db:
            self.db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?)", (key, replication, payload))

    def count(self) -> int:
        """Rows stored."""
        with self._failing("count the stored runs"):
            return int(self.db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
