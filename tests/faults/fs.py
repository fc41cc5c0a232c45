"""Real file-system faults for the tests: a small tmpfs that fills up, and a read-only mount.

Mounting needs root (CAP_SYS_ADMIN). Where it is not possible the helpers say so (`None`), and
each test falls back explicitly: a read-only store by file modes (which bind everyone but root),
a full disk by RLIMIT_FSIZE in a child process (the kernel refuses to grow a file past it: EFBIG).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _mount(*args: str) -> bool:
    done = subprocess.run(["mount", *args], capture_output=True, check=False)
    return done.returncode == 0



@contextmanager
def small_tmpfs(where: Path, size_kib: int) -> Iterator[Path | None]:
    """A tmpfs of `size_kib` KiB at `where` (unmounted afterwards); None when mounting is not possible."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not _mount("-t", "tmpfs", "-o", f"size={size_kib}k,mode=0755", "tmpfs", str(where)):
        yield None
        return
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def resize(where: Path, size_kib: int) -> None:
    assert _mount("-o", f"remount,size={size_kib}k", str(where)), f"cannot resize {where}"


def remount_read_only(where: Path) -> None:
    assert _mount("-o", "remount,ro", str(where)), f"cannot remount {where} read-only"


def remount_read_write(where: Path) -> None:
    assert _mount("-o", "remount,rw", str(where)), f"cannot remount {where} read-write"


def make_read_only_by_mode(path: Path) -> bool:
    """Mode 0444 on the file and 0555 on its directory; True when that binds this process (not root)."""
    path.chmod(0o444)
    path.parent.chmod(0o555)
    return not os.access(path, os.W_OK)
