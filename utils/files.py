"""Files that hold clients' data (the database, its copies, the log): readable by the bot's
user only, whatever the umask: files 0600, the folders the bot creates for them 0700."""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """The folder, created 0700 (with any missing parents) if it did not exist. A folder that
    already exists is left as it is: it may be shared on purpose (a working directory)."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask
    return path


def private_file(path: Path) -> Path:
    """The file, created empty and 0600 if missing; an existing one is made 0600."""
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path


def new_private_file(path: Path) -> Path:
    """A new empty 0600 file; FileExistsError if the path is taken."""
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path
