"""The fast lane: many small calls into the worker through shared memory.

A 500-epoch training with batch size 1 is 125,000 steps, each a round trip to
the student's functions. Over the socket a round trip costs ~0.3 ms here (a
kernel wake-up on each side plus the general codec), which makes such a run
take minutes. The lane is a shared memory area (a memfd both processes map)
holding one request and one reply, a sequence number for each, and a lean
frame format for the values a training sends: float and integer arrays,
numbers, short strings, flat lists. Both sides spin briefly on the other's
sequence number and then sleep on a doorbell socket, so a waiting side costs
nothing when the other one is slow (a student's function, a busy machine).

Nothing here is trusted on the grader's side: every frame is parsed with the
same rules as protocol.py (dtype allow-list, exact byte counts, size limits),
and anything the lean format does not cover travels as a protocol.py payload
inside the frame. Used on Linux/x86-64 only, where stores become visible to
the other core in program order (the payload before its sequence number);
elsewhere the worker is served over the socket as usual.

This file runs in the grader and, as a copy beside protocol.py, in the worker.
"""

import mmap
import os
import platform
import select
import struct
import sys
import time

import numpy as np

if __name__ == "lane":  # the worker's copy, beside protocol.py in its runtime directory
    import protocol
else:
    from grader.worker import protocol

HEADER = 4096
# uint64 slots of the header, each on its own cache line.
REQUEST_SEQ, REPLY_SEQ, GRADER_ASLEEP, WORKER_ASLEEP, REQUEST_LEN, REPLY_LEN = (
    0, 8, 16, 24, 32, 40)
END = 2**64 - 1  # a request count that means: leave the lane, go back to the socket
SPIN_SECONDS = 0.0005  # then sleep on the doorbell
DOORBELL_POLL = 0.002  # a lost doorbell ring costs at most this much

_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")
_I64 = struct.Struct("<q")
_ARRAY = struct.Struct("<BB")
_CALL = struct.Struct("<BB")  # name length, argument count
_DTYPES = tuple(np.dtype(n).newbyteorder("<") for n in (
    "float64", "int64", "int32", "float32", "bool", "uint8", "int8", "int16", "uint16",
    "uint32", "uint64", "float16"))
# Native dtypes only (the lane runs on little-endian x86): anything else goes as "X".
_CODE_OF = {np.dtype(dt.str): code for code, dt in enumerate(_DTYPES)}
_TAGGED_F64 = struct.Struct("<Bd")
_TAGGED_I64 = struct.Struct("<Bq")
_NAMES = {}  # "module.function" -> bytes, and bytes -> (module, function): plain data


def supported() -> bool:
    return (sys.platform.startswith("linux") and hasattr(os, "memfd_create")
            and platform.machine() in ("x86_64", "AMD64"))


class LaneError(Exception):
    """A malformed frame (or one over the limits)."""


class FrameTooBig(LaneError):
    """The frame does not fit the area: send it over the socket instead."""


class Area:
    """The shared memory: header, request area, reply area."""

    def __init__(self, fd: int, capacity: int) -> None:
        self.fd = fd
        self.capacity = capacity
        self.map = mmap.mmap(fd, HEADER + 2 * capacity)
        self.view = memoryview(self.map)
        self.slots = self.view[:HEADER].cast("Q")
        self.request = self.view[HEADER:HEADER + capacity]
        self.reply = self.view[HEADER + capacity:]

    @classmethod
    def create(cls, capacity: int) -> "Area":
        fd = os.memfd_create("hwgrade-lane", os.MFD_CLOEXEC)
        os.ftruncate(fd, HEADER + 2 * capacity)
        return cls(fd, capacity)

    def close(self) -> None:
        for view in (self.slots, self.request, self.reply, self.view):
            view.release()
        self.map.close()
        os.close(self.fd)


def wait_for(slots, index: int, last: int, asleep: int, doorbell, deadline=None) -> int:
    """Wait until slots[index] != last; returns it. Spins first, then sleeps on the
    doorbell with `asleep` raised so that the other side rings it. Raises EOFError
    when the doorbell's other end is closed, TimeoutError at `deadline`
    (time.monotonic())."""
    clock = time.perf_counter
    until = clock() + SPIN_SECONDS
    while slots[index] == last:
        if clock() > until:
            break
        # Give the core away if anything else wants it (the other side, on a busy
        # machine): without it a spin costs the other side a whole time slice. On a
        # free core it returns at once.
        os.sched_yield()
    else:
        return slots[index]
    slots[asleep] = 1
    try:
        while slots[index] == last:
            wait = DOORBELL_POLL
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                wait = min(wait, left)
            if select.select([doorbell], [], [], wait)[0]:
                try:
                    if not doorbell.recv(4096):
                        raise EOFError
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:  # reset by a dying peer: the same as its end
                    raise EOFError from None
    finally:
        slots[asleep] = 0
    return slots[index]


def ring(slots, asleep: int, doorbell) -> None:
    """Wake the other side if it sleeps (a missed ring costs DOORBELL_POLL)."""
    if slots[asleep]:
        try:
            doorbell.send(b"!")
        except (BlockingIOError, OSError):
            pass  # a full or closed doorbell: the other side is awake, or gone


# --- frames ----------------------------------------------------------------------------


class Writer:
    """A frame, gathered as parts (array heads cached by dtype and shape, array data
    not copied) and copied into the area once by finish()."""

    def __init__(self, area: memoryview) -> None:
        self.area = area
        self.parts: list = []
        self.pos = 0  # the frame's length so far

    def mark(self) -> tuple[int, int]:
        return len(self.parts), self.pos

    def rewind(self, mark: tuple[int, int]) -> None:
        del self.parts[mark[0]:]
        self.pos = mark[1]

    def put(self, data, size: int | None = None) -> None:
        self.pos += len(data) if size is None else size
        if self.pos > len(self.area):
            raise FrameTooBig(f"frame over {len(self.area)} bytes")
        self.parts.append(data)

    def value(self, x) -> None:
        t = type(x)
        if t is np.ndarray:
            head = _HEAD_OF.get((x.dtype, x.shape))
            if head is None:
                code = _CODE_OF.get(x.dtype)
                if code is not None and x.ndim <= protocol.MAX_NDIM:
                    head = _array_head(x.ndim).pack(65, code, x.ndim, *x.shape)
                    if len(_HEAD_OF) > 4096:
                        _HEAD_OF.clear()
                    _HEAD_OF[x.dtype, x.shape] = head
            if head is not None:
                self.put(head)
                if x.size:
                    self.put(x if x.flags.c_contiguous else np.ascontiguousarray(x), x.nbytes)
                return
        elif t is float:
            self.put(_TAGGED_F64.pack(70, x))
            return
        elif t is int and -2**63 <= x < 2**63:
            self.put(_TAGGED_I64.pack(73, x))
            return
        elif x is None:
            self.put(b"N")
            return
        elif t is str and len(x) < 256:
            raw = x.encode("utf-8", "surrogatepass")
            self.put(b"S" + _U64.pack(len(raw)) + raw)
            return
        elif t is list and all(type(v) is np.ndarray for v in x):
            self.put(b"L" + _U64.pack(len(x)))
            for v in x:
                self.value(v)
            return
        self.put(b"X" + _blob(x))

    def blob(self, tag: bytes, x) -> None:
        self.put(tag + _blob(x))

    def finish(self) -> int:
        """Copy the frame into the area, part by part (one copy of each array, not a
        joined frame copied again); its length."""
        area, at = self.area, 0
        for part in self.parts:
            data = memoryview(part).cast("B") if type(part) is np.ndarray else part
            end = at + len(data)
            area[at:end] = data
            at = end
        return self.pos


_HEAD_OF: dict = {}  # (dtype, shape) -> an array's head in a frame


def _blob(x) -> bytes:
    payload = protocol.encode(x)  # EncodeError for what cannot be sent at all
    return _U64.pack(len(payload)) + payload


_HEADS = {}


def _array_head(ndim: int) -> struct.Struct:
    head = _HEADS.get(ndim)
    if head is None:
        head = _HEADS[ndim] = struct.Struct(f"<BBB{ndim}Q")
    return head


class Reader:
    def __init__(self, area: memoryview, length: int, limits) -> None:
        if length > len(area):
            raise LaneError(f"frame of {length} bytes in an area of {len(area)}")
        self.data = area
        self.size = length
        self.pos = 0
        self.limits = limits
        self.items = 0

    def take(self, n: int, what: str) -> int:
        """The position of the next n bytes (advancing past them)."""
        start, self.pos = self.pos, self.pos + n
        if self.pos > self.size:
            raise LaneError(f"frame ends inside {what}")
        return start

    def u64(self, what: str) -> int:
        return _U64.unpack_from(self.data, self.take(8, what))[0]

    def count(self, n: int) -> None:
        self.items += n
        if self.items > self.limits.max_items:
            raise LaneError(f"more than {self.limits.max_items} values in a frame")

    def value(self, nested: bool = False):
        self.count(1)
        tag = self.data[self.take(1, "a type tag")]
        if tag == 65:  # A
            code, ndim = _ARRAY.unpack_from(self.data, self.take(2, "array head"))
            if code >= len(_DTYPES) or ndim > protocol.MAX_NDIM:
                raise LaneError(f"array of dtype code {code} and {ndim} dimensions")
            shape = _array_head(ndim).unpack_from(
                self.data, self.take(8 * ndim, "array shape") - 3)[3:]
            dtype = _DTYPES[code]
            count = 1
            for dim in shape:  # Python ints: no overflow, whatever the dims say
                count *= dim
            at = self.take(count * dtype.itemsize, "array data")
            # A copy: the area is reused by the next frame.
            return np.frombuffer(self.data, dtype, count, at).reshape(shape).copy()
        if tag == 70:  # F
            return _F64.unpack_from(self.data, self.take(8, "float"))[0]
        if tag == 73:  # I
            return _I64.unpack_from(self.data, self.take(8, "int"))[0]
        if tag == 78:  # N
            return None
        if tag == 83:  # S
            n = self.u64("string length")
            if n > 255:
                raise LaneError("string over 255 bytes")
            at = self.take(n, "string")
            try:
                return str(self.data[at:self.pos], "utf-8", "surrogatepass")
            except UnicodeDecodeError:
                raise LaneError("string is not UTF-8") from None
        if tag == 76 and not nested:  # L
            n = self.u64("list length")
            self.count(n)
            return [self.value(nested=True) for _ in range(n)]
        if tag == 88:  # X
            return self.blob()
        raise LaneError(f"unknown tag {bytes([tag])!r}")

    def blob(self):
        n = self.u64("payload length")
        at = self.take(n, "payload")
        try:
            return protocol.decode(self.data[at:self.pos], limits=self.limits)
        except protocol.ProtocolError as exc:
            raise LaneError(str(exc)) from None

    def end(self) -> None:
        if self.pos != self.size:
            raise LaneError(f"{self.size - self.pos} bytes after the frame")


def write_request(area: memoryview, calls) -> int:
    """calls: (qualified name, args) each. Returns the frame's length."""
    out = Writer(area)
    out.put(_U64.pack(len(calls)))
    for name, args in calls:
        head = _CALL_HEAD.get((name, len(args)))
        if head is None:
            raw = name.encode("ascii")
            head = _CALL_HEAD[name, len(args)] = _CALL.pack(len(raw), len(args)) + raw
        out.put(head)
        for arg in args:
            out.value(arg)
    return out.finish()


_CALL_HEAD: dict = {}  # (qualified name, argument count) -> a call's head in a frame


def write_end(area: memoryview) -> int:
    area[:8] = _U64.pack(END)
    return 8


def read_request(area: memoryview, length: int, limits):
    """[(module, function, args)], or None for END (the worker's side)."""
    frame = Reader(area, length, limits)
    n = frame.u64("call count")
    if n == END:
        return None
    frame.count(n)
    calls = []
    for _ in range(n):
        size, nargs = _CALL.unpack_from(frame.data, frame.take(2, "call head"))
        at = frame.take(size, "function name")
        raw = bytes(frame.data[at:frame.pos])
        name = _NAMES.get(raw)
        if name is None:
            module, _, function = raw.decode("ascii").partition(".")
            name = _NAMES[raw] = (module, function)
        calls.append((*name, [frame.value() for _ in range(nargs)]))
    frame.end()
    return calls


def read_reply(area: memoryview, length: int, n: int, limits) -> list:
    """n results: ("ok", value) or ("error", report) (the grader's side; strict)."""
    frame = Reader(area, length, limits)
    if frame.u64("result count") != n:
        raise LaneError(f"expected {n} results")
    results = []
    for _ in range(n):
        tag = frame.data[frame.take(1, "result tag")]
        if tag == 79:  # O
            results.append(("ok", frame.value()))
        elif tag == 69:  # E
            results.append(("error", frame.blob()))
        else:
            raise LaneError(f"unknown result tag {bytes([tag])!r}")
    frame.end()
    return results


def write_reply(area: memoryview, outcomes, unsendable) -> int:
    """The worker's side: outcomes are ("ok", value) or ("error", report);
    unsendable(value, exc) is the report for a value that cannot be sent."""
    out = Writer(area)
    out.put(_U64.pack(len(outcomes)))
    for kind, value in outcomes:
        start = out.mark()
        try:
            if kind == "ok":
                out.put(b"O")
                out.value(value)
                continue
        except (protocol.EncodeError, FrameTooBig, MemoryError, RecursionError) as exc:
            out.rewind(start)
            value = unsendable(value, exc)
        out.blob(b"E", value)
    return out.finish()

