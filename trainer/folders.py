"""Whether a folder can be written, asked of the file system itself (permission bits say
nothing for root or a read-only mount), before anything is started."""

import os
import tempfile


def unwritable_reason(path):
    """None when `path` (a folder, or a folder to be created) can be written; else why not."""
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(os.path.abspath(existing))
    if not os.path.isdir(existing):
        return f"{existing} is not a directory"
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        return f"{existing}: {error.strerror}"
    return None
