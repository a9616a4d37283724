"""The HDF5 superblock's file consistency flags: set while a writer has the file open, left set
when the writer dies without closing it (SIGKILL, OOM, power loss). HDF5 then refuses every
non-SWMR open and every write ("file is already open for write"); `h5clear -s` would clear them.
Here the same is done in Python: the flags byte and the superblock's checksum (Bob Jenkins's
lookup3, which HDF5 uses), for superblock versions 2 and 3 (libver v110 and later).
"""

import io
import os
import struct

SIGNATURE = b"\x89HDF\r\n\x1a\n"
FLAGS_OFFSET = 11
MASK = 0xFFFFFFFF


def _rot(x, k):
    return ((x << k) | (x >> (32 - k))) & MASK


def lookup3(data, initval=0):
    """HDF5's H5_checksum_lookup3 of `data` (bytes)."""
    length = len(data)
    a = b = c = (0xDEADBEEF + length + initval) & MASK
    i = 0
    while length > 12:
        a = (a + int.from_bytes(data[i:i + 4], "little")) & MASK
        b = (b + int.from_bytes(data[i + 4:i + 8], "little")) & MASK
        c = (c + int.from_bytes(data[i + 8:i + 12], "little")) & MASK
        a = (a - c) & MASK; a ^= _rot(c, 4); c = (c + b) & MASK  # noqa: E702 - mix()
        b = (b - a) & MASK; b ^= _rot(a, 6); a = (a + c) & MASK  # noqa: E702
        c = (c - b) & MASK; c ^= _rot(b, 8); b = (b + a) & MASK  # noqa: E702
        a = (a - c) & MASK; a ^= _rot(c, 16); c = (c + b) & MASK  # noqa: E702
        b = (b - a) & MASK; b ^= _rot(a, 19); a = (a + c) & MASK  # noqa: E702
        c = (c - b) & MASK; c ^= _rot(b, 4); b = (b + a) & MASK  # noqa: E702
        length -= 12
        i += 12
    if length == 0:
        return c
    tail = bytes(data[i:i + length]) + b"\0" * (12 - length)
    a = (a + int.from_bytes(tail[0:4], "little")) & MASK
    b = (b + int.from_bytes(tail[4:8], "little")) & MASK
    c = (c + int.from_bytes(tail[8:12], "little")) & MASK
    c ^= b; c = (c - _rot(b, 14)) & MASK  # noqa: E702 - final()
    a ^= c; a = (a - _rot(c, 11)) & MASK  # noqa: E702
    b ^= a; b = (b - _rot(a, 25)) & MASK  # noqa: E702
    c ^= b; c = (c - _rot(b, 16)) & MASK  # noqa: E702
    a ^= c; a = (a - _rot(c, 4)) & MASK  # noqa: E702
    b ^= a; b = (b - _rot(a, 14)) & MASK  # noqa: E702
    c ^= b; c = (c - _rot(b, 24)) & MASK  # noqa: E702
    return c


def _superblock(path):
    """(bytes of a version 2/3 superblock, its length without the checksum), or None."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:8] != SIGNATURE or head[8] not in (2, 3):
            return None
        size = 12 + 4 * head[9]  # four addresses of `size of offsets` bytes each
        block = head + f.read(size - 12 + 4)
    return (block, size) if len(block) == size + 4 else None


def write_flags(path):
    """The file consistency flags (0: closed cleanly), or None when they cannot be read (not
    HDF5, an older superblock, too short)."""
    try:
        found = _superblock(path)
    except OSError:
        return None
    return None if found is None else found[0][FLAGS_OFFSET]


def cleared_superblock(path):
    """The superblock with the flags a dead writer left cleared and its checksum redone, or
    None (the flags are clear, the superblock is damaged or cannot be read)."""
    found = _superblock(path)
    if found is None or found[0][FLAGS_OFFSET] == 0:
        return None
    block, size = found
    stored = struct.unpack("<I", block[size:size + 4])[0]
    if lookup3(block[:size]) != stored:
        return None  # a damaged superblock: not ours to rewrite
    fixed = bytearray(block[:size])
    fixed[FLAGS_OFFSET] = 0
    return bytes(fixed + struct.pack("<I", lookup3(bytes(fixed))))


def clear_write_flags(path):
    """Clear the flags a dead writer left, with the superblock's checksum; True when cleared.
    Only by the next writer (it holds the run's writer lock): readers never write a store."""
    fixed = cleared_superblock(path)
    if fixed is None:
        return False
    with open(path, "r+b") as f:
        f.write(fixed)
        f.flush()
        os.fsync(f.fileno())
    return True


class ClearedView(io.RawIOBase):
    """The file read as if its superblock were `cleared` (cleared_superblock), the file itself
    untouched: a dead writer's store opened by a reader, which never writes (the file may be
    a copy made for viewing, or on a read-only mount)."""

    def __init__(self, path, cleared):
        super().__init__()
        self._file = open(path, "rb")
        self._cleared = cleared

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        return self._file.seek(offset, whence)

    def tell(self):
        return self._file.tell()

    def readinto(self, buffer):
        start = self._file.tell()
        count = self._file.readinto(buffer)
        if start < len(self._cleared) and count:
            end = min(len(self._cleared), start + count)
            memoryview(buffer)[:end - start] = self._cleared[start:end]
        return count

    def close(self):
        self._file.close()
        super().close()
