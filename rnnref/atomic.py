"""Writes that are all or nothing, and a lock for writers that share a file.

Every file the tool writes goes through here (SQLite's promise, in small): a reader
sees the old file or the new one, never half of either, and a process killed at any
moment (``kill -9``, a power cut after the fsyncs) leaves the old file intact.

- ``atomic_write(path, data)``: write a temporary dot file in the same folder (the
  graph loader skips dot files), flush and fsync it, ``os.replace`` it over ``path``
  (atomic on POSIX within one file system), then fsync the folder so the rename
  itself is durable. A failure removes the temporary file and leaves ``path`` as it was.
- ``file_lock(path)``: an exclusive ``fcntl.flock`` held for a ``with`` block; the
  kernel drops it when the process dies, so a killed writer never leaves a stale lock.
  Writers that read, change and write back a shared file (``bench --record``) take it
  around the whole read-modify-write, so concurrent writers lose nothing.
- ``replace_dir(staging, target)``: put a fully built folder in place of another in
  one step: ``renameat2(RENAME_EXCHANGE)`` swaps the two names atomically (Linux >= 3.15
  on ext4, xfs, btrfs, tmpfs, ...). Where the kernel or file system cannot exchange, it
  falls back to two renames, and ``recover_dir(target)`` (called before every
  replacement) puts the previous folder back if a process died between them.

Tests set ``RNNREF_TEST_PAUSE_BEFORE_REPLACE`` to a number of seconds to pause right
before the final rename, so that they can kill the writer while the new data exists
only in its temporary file or folder.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rnnref.errors import InputError

PAUSE_ENV = "RNNREF_TEST_PAUSE_BEFORE_REPLACE"
LOCK_NAME = ".lock"
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def pause_before_replace() -> None:
    """The test hook: sleep for $RNNREF_TEST_PAUSE_BEFORE_REPLACE seconds, if set."""
    pause = os.environ.get(PAUSE_ENV)
    if pause:
        try:
            seconds = float(pause)
        except ValueError:
            return
        time.sleep(max(0.0, seconds))


def fsync_dir(folder: Path) -> None:
    """Make renames inside ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_mode() -> int:
    """The permissions a plain ``open(path, "w")`` would give a new file (0666 less the umask)."""
    return 0o666 & ~_umask()


def temp_path_pattern(path: Path) -> str:
    """The glob of the temporary files ``atomic_write`` makes for ``path``."""
    return f".{Path(path).name}.*.tmp"


def atomic_write(path: str | os.PathLike[str], data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Replace ``path`` with ``data`` all at once (see the module docstring).

    The new file keeps the old file's permissions, or gets the umask's default for a
    new one. Raises InputError (one line) when the folder or file cannot be written.
    """
    path = Path(path)
    if isinstance(data, str):
        payload = data.encode(encoding)
    elif isinstance(data, (bytes, bytearray, memoryview)):
        payload = bytes(data)
    else:  # bytes(12345) would quietly write 12345 zero bytes
        raise TypeError(f"atomic_write needs str or bytes, not {type(data).__name__}")
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = path.stat().st_mode & 0o7777
        except OSError:
            mode = default_mode()  # mkstemp makes 0600; a plain open() would honour the umask
        os.chmod(tmp, mode)
        pause_before_replace()
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


@contextmanager
def file_lock(path: str | os.PathLike[str], *, timeout: float | None = None) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` (a file, created if missing, or a folder) for
    the ``with`` block.

    ``timeout``: give up after this many seconds with an InputError naming the lock
    (None waits for as long as it takes).
    """
    path = Path(path)
    try:
        if path.is_dir():  # a folder can be locked itself (Linux flock), leaving no lock file behind
            fd = os.open(path, os.O_RDONLY)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise InputError(f"cannot open the lock file {path}: {exc.strerror or exc}") from None
    try:
        if timeout is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise InputError(
                            f"another rnnref process holds the lock {path}; try again when it has finished"
                        ) from None
                    time.sleep(0.05)
        try:
            yield path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def locked_dir(folder: str | os.PathLike[str], *, timeout: float | None = None) -> Iterator[Path]:
    """``file_lock`` on ``folder/.lock``: one writer at a time in ``folder``."""
    folder = Path(folder)
    with file_lock(folder / LOCK_NAME, timeout=timeout):
        yield folder


# -- folders ------------------------------------------------------------------------------------


def _exchange(a: Path, b: Path) -> bool:
    """Swap the names ``a`` and ``b`` atomically; False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _old_prefix(target: Path) -> str:
    return f".{target.name}.old-"


def recover_dir(target: str | os.PathLike[str]) -> Path | None:
    """If ``target`` is missing but a previous replacement left it aside (the process
    died between the two renames of the fallback), put it back; return what was restored."""
    target = Path(target)
    if target.exists() or not target.parent.is_dir():
        return None
    aside = sorted(target.parent.glob(_old_prefix(target) + "*"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in aside:
        if old.is_dir():
            old.rename(target)
            fsync_dir(target.parent)
            return target
    return None


def replace_dir(staging: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Put the folder ``staging`` in place of ``target`` in one step; the old ``target``
    is removed afterwards. Both must be in the same folder (one file system)."""
    staging, target = Path(staging), Path(target)
    recover_dir(target)
    pause_before_replace()
    if not target.exists():
        staging.rename(target)
        fsync_dir(target.parent)
        return
    if _exchange(staging, target):
        fsync_dir(target.parent)
        shutil.rmtree(staging, ignore_errors=True)  # staging now holds the old tree
        return
    # Fallback: two renames; recover_dir() repairs a death between them.
    old = Path(tempfile.mkdtemp(prefix=_old_prefix(target), dir=target.parent))
    old.rmdir()
    target.rename(old)
    try:
        staging.rename(target)
    except OSError:
        old.rename(target)
        raise
    fsync_dir(target.parent)
    shutil.rmtree(old, ignore_errors=True)
