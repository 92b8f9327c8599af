"""Folders: where results land, and how they get there without leaving half a folder behind.

* :func:`safe_name` turns a scenario name into one folder name inside
  ``results/`` (no separators, no ``..``, no control characters; Vietnamese
  letters kept).
* :func:`check_output` refuses, before anything runs, an output path that is a
  file, or a non-empty folder that is not an earlier result of the same kind
  (it would be replaced).
* :func:`temporary_path` names a hidden sibling ``.NAME.HOST-PID-TOKEN.tmp``
  (or ``.old``) that records its owner, so :func:`clean_stale` can remove the
  ones a killed process left behind (owner on this host and no longer
  running) and nothing else.
* :func:`make_folder`, :func:`write_text` and :func:`publish` create folders
  and files with the permissions the user's umask allows (not 700 / 600 as
  ``tempfile`` would), write files atomically, and put a finished temporary
  folder in place of the target by renames.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import socket
import unicodedata
from pathlib import Path
from typing import Iterator, Literal

from .errors import ExperimentError

__all__ = ["safe_name", "check_output", "temporary_path", "clean_stale", "make_folder", "write_text", "publish",
           "staged_folder",
           "describe", "MAX_NAME_BYTES", "RUN_MARKERS", "SWEEP_MARKERS", "CAPACITY_MARKERS"]

#: Longest folder name made from a scenario name, in UTF-8 bytes (the file system allows 255 with the
#: hidden temporary sibling's prefix and suffix around it).
MAX_NAME_BYTES = 160
#: Files that mark an existing folder as an earlier ``axis-sim run`` result (it may be replaced).
RUN_MARKERS = ("summary.json",)
#: Files that mark an existing folder as an earlier ``axis-sim sweep`` folder (it may be written into).
SWEEP_MARKERS = ("runs.sqlite", "manifest.json")
#: Files that mark an existing folder as an earlier ``axis-sim capacity`` result (it may be replaced).
CAPACITY_MARKERS = ("capacity.json",)
#: The marker files of each kind of result folder.
_MARKERS = {"run": RUN_MARKERS, "sweep": SWEEP_MARKERS, "capacity": CAPACITY_MARKERS}

_UNSAFE = re.compile(r'[/\\:*?"<>|]+')
_SPACES = re.compile(r"\s+")


def safe_name(name: str, fallback: str = "scenario") -> str:
    r"""A scenario name as one safe folder name.

    Separators (``/``, ``\``) and characters Windows refuses (``:*?"<>|``)
    become ``-``; control characters (NUL included) are dropped; leading dots
    and spaces are stripped (so no ``.``, ``..`` or hidden folder), and the
    name is cut to :data:`MAX_NAME_BYTES` bytes of UTF-8. Letters of any
    script are kept (NFC-normalised).

    Parameters
    ----------
    name : str
        The scenario's ``name``.
    fallback : str
        Used when nothing is left.

    Returns
    -------
    str

    Examples
    --------
    >>> safe_name("../../x"), safe_name("/abs/path"), safe_name("Bộ Tài chính 2025")
    ('x', 'abs-path', 'Bộ Tài chính 2025')
    >>> safe_name("a\x00b"), safe_name(".."), safe_name("..hidden")
    ('ab', 'scenario', 'hidden')
    """
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", name))  # tabs and line breaks: one space
    text = "".join(c for c in text if not unicodedata.category(c).startswith("C"))
    text = _UNSAFE.sub("-", text)
    text = re.sub(r"(^|-)[.\s-]*\.(?=-|$)", r"\1", text)  # path segments made only of dots
    text = re.sub(r"-{2,}", "-", text)
    text = text.strip(" .-")
    encoded = text.encode("utf-8")[:MAX_NAME_BYTES]
    text = encoded.decode("utf-8", errors="ignore").rstrip(" .-")
    return text or fallback


def check_output(path: Path, kind: Literal["run", "sweep", "capacity"], option: str = "-o") -> None:
    """Refuse an output path that cannot or must not be written, before anything runs.

    Parameters
    ----------
    path : pathlib.Path
        The result folder (``run``, ``capacity``) or sweep folder (``sweep``).
    kind : {"run", "sweep", "capacity"}
        A run or capacity folder is replaced as a whole, a sweep folder written into.
    option : str
        How the user gave the path, for the message.

    Raises
    ------
    ExperimentError
        If ``path`` (or a folder above it) is a file, or is a non-empty folder
        without the files of an earlier result of that kind.
    """
    for above in [path, *path.parents]:
        if above.exists() and not above.is_dir():
            what = "is" if above == path else f"is under {above}, which is"
            raise ExperimentError(f"{option} {path}: {what} a file, not a folder; give a folder path "
                                  "(it is created, or replaced if it holds an earlier result)")
        if above.is_dir():
            break
    if not path.is_dir():
        return
    markers = _MARKERS[kind]
    entries = [entry.name for entry in path.iterdir()]
    if entries and not any(marker in entries for marker in markers):
        raise ExperimentError(f"{option} {path}: the folder exists and is not an earlier {kind} result "
                              f"(no {' or '.join(markers)}); its contents would be "
                              f"{'overwritten' if kind == 'sweep' else 'replaced'}: give a new or empty folder")


def _host() -> str:
    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


def temporary_path(target: Path, suffix: Literal["tmp", "old"] = "tmp") -> Path:
    """A hidden sibling of ``target`` owned by this process: ``.NAME.HOST-PID-TOKEN.tmp``.

    Parameters
    ----------
    target : Path
        The folder or file the temporary one will replace.
    suffix : {"tmp", "old"}, optional
        ``tmp`` for the folder being written, ``old`` for an earlier result
        moved aside.

    Returns
    -------
    Path
        The sibling's path (not created).

    Examples
    --------
    >>> p = temporary_path(Path("results/x"))
    >>> p.parent.as_posix(), p.name.startswith(".x."), p.suffix
    ('results', True, '.tmp')
    """
    return target.with_name(f".{target.name}.{_host()}-{os.getpid()}-{secrets.token_hex(4)}.{suffix}")


_OURS = re.compile(r"^\.(?P<name>.+)\.(?P<host>[0-9a-f]{6})-(?P<pid>\d+)-[0-9a-f]{8}\.(?P<suffix>tmp|old)$")


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True  # cannot tell: leave it
    return True


def clean_stale(folder: Path, name: str | None = None) -> list[Path]:
    """Remove the temporary siblings a killed run left in ``folder``; return what was removed.

    Only entries named as :func:`temporary_path` names them, created on this
    host by a process that no longer runs, are touched (for ``name`` only,
    when given). A stale ``.old`` folder (the previous result, moved aside
    just before a kill) is moved back when its target is missing.

    Parameters
    ----------
    folder : Path
        The folder to look in.
    name : str, optional
        Only the siblings of this entry.

    Returns
    -------
    list of Path
        The entries removed.
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    host = _host()
    for entry in sorted(folder.iterdir()):
        match = _OURS.match(entry.name)
        if match is None or match["host"] != host or (name is not None and match["name"] != name):
            continue
        if _running(int(match["pid"])):
            continue
        target = folder / match["name"]
        try:
            if match["suffix"] == "old" and not target.exists() and not target.is_symlink():
                os.replace(entry, target)
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:
            continue
        removed.append(entry)
    return removed


def make_folder(path: Path) -> Path:
    """Create a folder (and its parents) with the permissions the umask allows; return it.

    Parameters
    ----------
    path : Path
        The folder to create; an existing one is fine.

    Returns
    -------
    Path
        ``path``.
    """
    path.mkdir(parents=True, exist_ok=False, mode=0o777)
    return path


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write a text file atomically (a temporary sibling renamed over it), permissions as the umask allows.

    ``encoding="utf-8-sig"`` starts the file with a UTF-8 byte-order mark (for Excel).

    Parameters
    ----------
    path : Path
        The file to write (replaced if it exists).
    text : str
        Its content.
    encoding : str, optional
        ``utf-8`` or ``utf-8-sig``.
    """
    temporary = temporary_path(path)
    try:
        with open(temporary, "x", encoding=encoding) as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def publish(temporary: Path, target: Path) -> None:
    """Put the finished folder (or file) ``temporary`` in place of ``target``.

    A missing target is one rename. An existing one is moved aside to its
    ``.old`` sibling first and removed after, so a kill between the two
    renames leaves the earlier result in ``.old``, which :func:`clean_stale`
    moves back on the next run.

    Parameters
    ----------
    temporary : Path
        The finished folder or file, a sibling of ``target``.
    target : Path
        Where it goes.
    """
    if not target.exists() and not target.is_symlink():
        os.replace(temporary, target)
        return
    old = temporary_path(target, "old")
    os.replace(target, old)
    try:
        os.replace(temporary, target)
    except BaseException:
        os.replace(old, target)
        raise
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            old.unlink()


@contextlib.contextmanager
def staged_folder(target: Path, kind: Literal["run", "sweep", "capacity"],
                  option: str = "result folder") -> Iterator[Path]:
    """Stage a result folder in a hidden temporary sibling and put it in place of ``target`` when done.

    Checks that ``target`` may be written (:func:`check_output`), creates its
    parent, cleans stale temporary siblings a killed run left, and yields an
    empty temporary folder. When the ``with`` block ends normally the folder
    replaces ``target`` (:func:`publish`); when it raises (a full disk, a
    Ctrl-C) the temporary folder is removed and ``target`` is untouched.

    Parameters
    ----------
    target : Path
        The result folder to write (an earlier result of the same kind there is replaced).
    kind : {"run", "sweep", "capacity"}
        What the folder holds, for the check of an existing folder.
    option : str
        How the user named the folder, for messages.

    Yields
    ------
    Path
        The temporary folder to write the files into.
    """
    check_output(target, kind, option=option)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target.parent, target.name)
    temporary = make_folder(temporary_path(target))
    try:
        yield temporary
        publish(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def describe(err: BaseException) -> str:
    """The reason of an I/O error in a few words (``No space left on device``).

    Parameters
    ----------
    err : BaseException
        The error, usually an ``OSError``.

    Returns
    -------
    str
        Its reason (``strerror``), or its text.
    """
    if isinstance(err, OSError):
        if err.errno == errno.ENOSPC:
            return "no space left on the device"
        return err.strerror or str(err)
    return str(err)
