"""The results folder: written so that nothing pylme4 did not write is ever lost.

pylme4 knows its own results folders by their manifest, ``.pylme4-manifest``
(JSON: the files and model folders it wrote), not by the name of one file:

- a missing or empty ``--out`` folder gets new results;
- a folder with a manifest gets new results only with ``force``, and then
  only the manifest's files are replaced (anything a user added survives);
- any other non-empty folder is refused.

New results are built in a hidden folder on the same file system and moved
into place when complete: a new folder with one ``rename``, an existing one
file by file with the manifest last, rolled back if a move fails.  Whatever
goes wrong (an error, Ctrl-C, SIGTERM in the CLI) the hidden folders are
removed and earlier results stay as they were.  Folders and files get the
modes the umask gives.  Every ``OSError`` becomes :class:`FileAccessError`,
one line naming the path and the cause.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from ..errors import PylmeError
from .outputs import COMPARE_FILE_NAMES, MODEL_FILES
from .spec import _MODEL_NAME

MANIFEST = ".pylme4-manifest"
MANIFEST_FORMAT = "pylme4-manifest/1"
#: Top-level files of a results folder.
TOP_FILES = ("spec.yaml", "results.json")

T = TypeVar("T")


class OutputDirError(PylmeError, ValueError):
    """The output folder cannot be used (it holds files that are not pylme4 results)."""


class FileAccessError(PylmeError):
    """A file or folder could not be read or written (disk full, permissions, busy, ...).

    ``str(exc)`` names the path and the cause; :attr:`path` and :attr:`errno`
    hold them for programs.
    """

    def __init__(self, message: str, *, path: str | None = None, errno: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.errno = errno


def file_error(
    exc: OSError, fallback: Path | str | None = None, doing: str = ""
) -> FileAccessError:
    """An OSError as one line: the path, then the cause in the system's words."""
    path = exc.filename if exc.filename is not None else fallback
    cause = exc.strerror or str(exc) or type(exc).__name__
    where = f"{path}: " if path is not None else ""
    what = f"cannot {doing}: " if doing else ""
    error = FileAccessError(
        f"{where}{what}{cause}", path=None if path is None else str(path), errno=exc.errno
    )
    return error


@contextlib.contextmanager
def os_errors(fallback: Path | str | None = None, doing: str = "") -> Iterator[None]:
    """Turn an OSError raised inside into a :class:`FileAccessError`."""
    try:
        yield
    except FileAccessError:
        raise
    except OSError as exc:
        raise file_error(exc, fallback, doing) from None


def umask() -> int:
    """The process's umask (read by setting it, then setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def valid_entry(rel: str) -> bool:
    """Whether ``rel`` is a path pylme4 writes into a results folder (so may replace)."""
    parts = PurePosixPath(rel).parts
    if len(parts) == 1:
        return parts[0] in TOP_FILES
    return (
        len(parts) == 2
        and bool(_MODEL_NAME.fullmatch(parts[0]))
        and (parts[1] in MODEL_FILES or parts[1] in COMPARE_FILE_NAMES)
    )


@dataclass(frozen=True)
class Manifest:
    """What pylme4 wrote into a results folder."""

    files: tuple[str, ...]
    dirs: tuple[str, ...]

    def to_json(self) -> str:
        return json.dumps(
            {"format": MANIFEST_FORMAT, "files": list(self.files), "dirs": list(self.dirs)},
            indent=1,
        )


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest of ``folder``, or None when it has none or not a valid one."""
    path = folder / MANIFEST
    try:
        if not stat.S_ISREG(path.lstat().st_mode):
            return None
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return None
    files, dirs = data.get("files"), data.get("dirs")
    if not isinstance(files, list) or not isinstance(dirs, list):
        return None
    if not all(isinstance(f, str) and valid_entry(f) for f in files):
        return None
    if not all(isinstance(d, str) and _MODEL_NAME.fullmatch(d) for d in dirs):
        return None
    return Manifest(files=tuple(files), dirs=tuple(dirs))


def manifest_of(folder: Path) -> Manifest:
    """The manifest for the results just built in ``folder`` (every file in it)."""
    files, dirs = [], []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_dir():
            dirs.append(rel)
        elif rel != MANIFEST:
            if not valid_entry(rel):  # a bug in run.py, not the user's doing
                raise AssertionError(f"run wrote {rel!r}, which the manifest cannot list")
            files.append(rel)
    return Manifest(files=tuple(files), dirs=tuple(dirs))


def check_out_dir(out_dir: Path, *, force: bool) -> Manifest | None:
    """Whether results may go to ``out_dir``: the manifest of earlier results there, if any.

    Raises
    ------
    OutputDirError
        ``out_dir`` is a file, a non-empty folder without pylme4's manifest,
        or earlier results and ``force`` is not set.
    """
    with os_errors(out_dir, "look at the output folder"):
        if not out_dir.exists():
            return None
        if not out_dir.is_dir():
            raise OutputDirError(f"--out {out_dir} is a file, not a folder")
        if not any(out_dir.iterdir()):
            return None
        manifest = read_manifest(out_dir)
    if manifest is None:
        raise OutputDirError(
            f"--out {out_dir} is not empty and holds no pylme4 results (no {MANIFEST}); "
            "choose a new or empty folder with --out (pylme4 never replaces files it did "
            "not write, not even with --force)"
        )
    if not force:
        raise OutputDirError(
            f"--out {out_dir} already holds the results of an earlier run, kept as they are. "
            f"To replace them, run the same command with --force: only the "
            f"{len(manifest.files)} files pylme4 wrote there (listed in {MANIFEST}) are "
            "replaced, and your own files in the folder stay.  To keep them, choose "
            "another folder with --out."
        )
    return manifest


def new_folder(parent: Path, prefix: str) -> Path:
    """A hidden, empty folder in ``parent``, with the mode the umask gives a new folder."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    path.chmod(0o777 & ~umask())
    return path


def build(out_dir: Path, old: Manifest | None, fill: Callable[[Path], T]) -> T:
    """Call ``fill(folder)`` on a hidden folder, then put what it wrote in ``out_dir``.

    ``old`` is the manifest of earlier results in ``out_dir`` (from
    :func:`check_out_dir`).  On any failure, or an interrupt, the hidden
    folders are removed and ``out_dir`` is as it was.
    """
    exists = out_dir.is_dir()
    # Building inside an existing folder keeps every move on its file system
    # (it may be a mount point, where renaming the folder itself fails).
    parent = out_dir if exists else out_dir.parent
    with os_errors(parent, "create a folder for the results"):
        if not exists:
            parent.mkdir(parents=True, exist_ok=True)
        building = new_folder(parent, ".pylme4-build-" if exists else f".{out_dir.name}.pylme4-")
    try:
        value = fill(building)
        with os_errors(building, "write the results"):
            manifest = manifest_of(building)
            (building / MANIFEST).write_text(manifest.to_json() + "\n", encoding="utf-8")
        with os_errors(out_dir, "put the results in place"):
            if exists:
                _swap_in(building, out_dir, old, manifest)
            else:
                os.rename(building, out_dir)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return value


def _swap_in(building: Path, out_dir: Path, old: Manifest | None, new: Manifest) -> None:
    """Replace the files of ``old`` in ``out_dir`` by those of ``new``, manifest last."""
    backup = new_folder(out_dir, ".pylme4-old-")
    moved_out: list[str] = []
    moved_in: list[str] = []
    made: list[Path] = []
    try:
        for rel in old.files if old is not None else ():
            target = out_dir / rel
            try:
                mode = target.lstat().st_mode
            except FileNotFoundError:
                continue  # removed since; nothing to keep
            if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
                continue  # not what pylme4 wrote there: never moved, never deleted
            (backup / rel).parent.mkdir(parents=True, exist_ok=True)
            os.rename(target, backup / rel)
            moved_out.append(rel)
        for rel in new.files:
            target = out_dir / rel
            if not target.parent.is_dir():
                target.parent.mkdir()
                made.append(target.parent)
            os.rename(building / rel, target)
            moved_in.append(rel)
        os.rename(building / MANIFEST, out_dir / MANIFEST)
    except BaseException:
        # Undo in reverse; each step on its own, so that one failure does
        # not stop the others from restoring what they can.
        for rel in reversed(moved_in):
            with contextlib.suppress(OSError):
                os.rename(out_dir / rel, building / rel)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        for rel in reversed(moved_out):
            with contextlib.suppress(OSError):
                os.rename(backup / rel, out_dir / rel)
        if not any(p.is_file() for p in backup.rglob("*")):
            shutil.rmtree(backup, ignore_errors=True)
        raise
    shutil.rmtree(backup, ignore_errors=True)
    # Model folders of the earlier results that are now empty (a user's file
    # in one keeps it).
    for rel in old.dirs if old is not None else ():
        if rel not in new.dirs:
            with contextlib.suppress(OSError):
                (out_dir / rel).rmdir()
