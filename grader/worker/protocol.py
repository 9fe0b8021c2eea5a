"""The strict wire format between the grader and the student worker.

The worker runs untrusted code, so whatever it sends is parsed here as plain
data: nothing is unpickled, evaluated, imported or called, and every length is
checked against a limit and against the bytes actually present before
anything is allocated.  ``decode`` is the security boundary.

Wire layout (all integers little-endian)::

    message = header payload
    header  = b"HWGP" | version u8 | payload length u64
    payload = exactly one value, nothing after it
    value   = one tag byte, then
      N None    T True    F False    i int64    f float64
      s str     len u64, UTF-8 bytes
      b bytes   len u64, raw bytes
      l list    count u64, count values          (tuples travel as lists)
      d dict    count u64, count x (s key, value)
      a ndarray dtype code u8, ndim u8, ndim x dim u64, nbytes u64, C-order bytes
"""

from __future__ import annotations

import math
import socket
import struct
import time
from dataclasses import dataclass, fields

import numpy as np

MAGIC = b"HWGP"
VERSION = 1
MAX_NDIM = 32  # numpy 1.x's limit; numpy 2 allows 64, but both ends must agree
_HEADER = struct.Struct("<4sBQ")
HEADER_SIZE = _HEADER.size
_ARRAY_HEAD = struct.Struct("<BB")  # dtype code, ndim
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")
_F64 = struct.Struct("<d")
# Below this size header and payload go out in one sendall: two small writes on a
# TCP socketpair (Windows) can stall on Nagle + delayed ACK.
_COALESCE_BYTES = 1 << 20

# The dtype allow-list; the wire code is the index (append only, or bump VERSION).
_DTYPE_NAMES = """bool int8 int16 int32 int64 uint8 uint16 uint32 uint64
                  float16 float32 float64 complex64 complex128"""
_DTYPES = tuple(np.dtype(name).newbyteorder("<") for name in _DTYPE_NAMES.split())
_DTYPE_CODES = {dt.str: code for code, dt in enumerate(_DTYPES)}
# numpy's own scalar types, matched by exact type so that a subclass with
# surprising methods is refused rather than converted.
_NUMPY_SCALAR_TYPES = frozenset(np.dtype(c).type for c in np.typecodes["All"])


class ProtocolError(Exception):
    """The channel carried something malformed (base of all errors here)."""


class ProtocolTimeout(ProtocolError):
    """No complete message arrived before the deadline."""


class ConnectionClosed(ProtocolError):
    """The peer closed the channel (or died) between messages."""


class EncodeError(ProtocolError):
    """The value cannot be sent: unsupported type, or over a limit."""


@dataclass(frozen=True)
class Limits:
    """Size limits, applied the same way by the encoder and the decoder."""

    max_message_bytes: int = 512 * 2**20
    max_depth: int = 32  # nested lists/dicts
    max_items: int = 1_000_000  # values in one message, dict keys included
    max_string_bytes: int = 16 * 2**20  # per str or bytes value

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if type(value) is not int or value < 0:
                raise ValueError(f"Limits.{f.name} must be a non-negative int, got {value!r}")
        if self.max_depth > 100:  # both codecs recurse; stay far from Python's limit
            raise ValueError(f"Limits.max_depth must be at most 100, got {self.max_depth}")


DEFAULT_LIMITS = Limits()


def _dtype_code(dt: np.dtype) -> int | None:
    if dt.fields is not None or dt.subdtype is not None:
        return None  # structured: never on the wire
    return _DTYPE_CODES.get(dt.newbyteorder("<").str)


# Short strings seen before, encoded and decoded (plain data both ways: the cache
# holds only str <-> UTF-8 bytes, so it cannot change what a message means).
_ENCODED: dict[str, bytes] = {}
_DECODED: dict[bytes, str] = {}


class _Encoder:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.chunks: list[bytes] = []
        self.size = 0
        self.items = 0

    def grow(self, n: int) -> None:
        self.size += n
        if self.size > self.limits.max_message_bytes:
            raise EncodeError(f"value too large to send: over {self.limits.max_message_bytes} B")

    def put(self, part: bytes) -> None:
        self.size += len(part)
        if self.size > self.limits.max_message_bytes:
            raise EncodeError(f"value too large to send: over {self.limits.max_message_bytes} B")
        self.chunks.append(part)

    def count(self) -> None:
        self.items += 1
        if self.items > self.limits.max_items:
            raise EncodeError(f"value too large to send: over {self.limits.max_items} items")

    def enter(self, depth: int) -> None:
        if depth >= self.limits.max_depth:
            raise EncodeError(f"value nested deeper than {self.limits.max_depth} lists/dicts")

    def blob(self, tag: bytes, raw: bytes) -> None:
        if len(raw) > self.limits.max_string_bytes:
            raise EncodeError(f"string too long to send: over {self.limits.max_string_bytes} bytes")
        self.put(tag + _U64.pack(len(raw)))
        self.put(raw)

    def string(self, s: str) -> None:
        encoded = _ENCODED.get(s)
        if encoded is not None:  # keys and names repeat in every message
            self.put(encoded)
            return
        try:
            raw = s.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates
            raise EncodeError("cannot send a string that is not valid Unicode") from None
        self.blob(b"s", raw)
        if len(raw) <= 64 and len(_ENCODED) < 4096:
            _ENCODED[s] = b"s" + _U64.pack(len(raw)) + raw

    def value(self, x: object, depth: int) -> None:
        self.count()
        t = type(x)  # exact type tests: never duck-type, never call the value's methods
        if x is None:
            self.put(b"N")
        elif t is bool:  # before int: bool is an int subclass
            self.put(b"T" if x else b"F")
        elif t is int:
            if not -(2**63) <= x < 2**63:
                raise EncodeError("cannot send an integer outside the signed 64-bit range")
            self.put(b"i" + _I64.pack(x))
        elif t is float:
            self.put(b"f" + _F64.pack(x))
        elif t is str:
            self.string(x)
        elif t is bytes:
            self.blob(b"b", x)
        elif t is list or t is tuple:
            self.enter(depth)
            self.put(b"l" + _U64.pack(len(x)))
            for item in x:
                self.value(item, depth + 1)
        elif t is dict:
            self.enter(depth)
            self.put(b"d" + _U64.pack(len(x)))
            for key, item in x.items():
                if type(key) is not str:
                    raise EncodeError(f"cannot send a dict key of type {type(key).__name__}")
                self.count()
                self.string(key)
                self.value(item, depth + 1)
        elif t in _NUMPY_SCALAR_TYPES:
            # A 0-d array keeps the dtype: a float32 result stays visibly float32.
            self.array(np.asarray(x))
        elif issubclass(t, np.ndarray):  # not isinstance: that may consult x.__class__
            # The unbound base-class view drops any subclass without running its code.
            self.array(np.ndarray.view(x, np.ndarray))
        else:
            raise EncodeError(
                f"cannot send a value of type {t.__name__}; return a numpy array or a number"
            )

    def array(self, arr: np.ndarray) -> None:
        code = _dtype_code(arr.dtype)
        if code is None:
            raise EncodeError(
                f"cannot send a numpy array of dtype {arr.dtype}; "
                "use a bool, integer, float or complex dtype"
            )
        if arr.ndim > MAX_NDIM:
            raise EncodeError(f"cannot send an array with {arr.ndim} dimensions (max {MAX_NDIM})")
        dims = b"".join(_U64.pack(n) for n in arr.shape)
        self.put(b"a" + _ARRAY_HEAD.pack(code, arr.ndim) + dims + _U64.pack(arr.nbytes))
        self.grow(arr.nbytes)  # refuse before copying the data
        # astype converts big-endian input; tobytes always yields C order.
        self.chunks.append(arr.astype(_DTYPES[code], copy=False).tobytes())


def encode(value: object, *, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """Return the payload (no header) for ``value``; raise EncodeError if it cannot cross."""
    encoder = _Encoder(limits)
    encoder.value(value, 0)
    return b"".join(encoder.chunks)


_TAG_N, _TAG_T, _TAG_F, _TAG_I, _TAG_FLOAT, _TAG_S, _TAG_B, _TAG_L, _TAG_D, _TAG_A = b"NTFifsblda"


class _Decoder:
    def __init__(self, data: memoryview, limits: Limits) -> None:
        self.data = data
        self.pos = 0
        self.limits = limits
        self.items = 0

    def left(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int, what: str) -> memoryview:
        pos = self.pos
        if n > len(self.data) - pos:  # every length is checked here before anything is allocated
            raise ProtocolError(
                f"truncated payload: {what} needs {n} bytes at offset {pos}, "
                f"{self.left()} left"
            )
        self.pos = pos + n
        return self.data[pos : pos + n]

    def u64(self, what: str) -> int:
        pos = self.pos
        if len(self.data) - pos < 8:
            self.take(8, what)  # raises with the message
        self.pos = pos + 8
        return _U64.unpack_from(self.data, pos)[0]

    def count(self) -> None:
        self.items += 1
        if self.items > self.limits.max_items:
            raise ProtocolError(f"message has more than {self.limits.max_items} items")

    def enter(self, depth: int) -> None:
        if depth >= self.limits.max_depth:
            raise ProtocolError(f"message nested deeper than {self.limits.max_depth} lists/dicts")

    def length(self, what: str) -> int:
        n = self.u64(what + " length")
        if n > self.limits.max_string_bytes:
            raise ProtocolError(f"{what} of {n} bytes is over {self.limits.max_string_bytes}")
        return n

    def string(self) -> str:
        raw = bytes(self.take(self.length("str"), "str"))
        text = _DECODED.get(raw)
        if text is not None:  # keys and names repeat in every message
            return text
        try:
            text = raw.decode("utf-8")  # strict: no surrogates, no overlongs
        except UnicodeDecodeError as e:
            raise ProtocolError(f"str is not valid UTF-8: {e.reason}") from None
        if len(raw) <= 64 and len(_DECODED) < 4096:
            _DECODED[raw] = text
        return text

    def container_size(self, depth: int, what: str) -> int:
        self.enter(depth)
        n = self.u64(what + " count")
        # Each member takes at least one byte and one item: cheap early refusal.
        if n > self.left() or self.items + n > self.limits.max_items:
            raise ProtocolError(f"{what} announces {n} members, more than the message can hold")
        return n

    def value(self, depth: int) -> object:
        self.count()
        tag = self.take(1, "a type tag")[0]  # an int: compared with ord() constants below
        if tag == _TAG_D:
            result: dict[str, object] = {}
            for _ in range(self.container_size(depth, "dict")):
                self.count()
                if self.take(1, "a dict key tag")[0] != _TAG_S:
                    raise ProtocolError(f"dict key at offset {self.pos - 1} is not a str")
                key = self.string()
                if key in result:
                    raise ProtocolError(f"duplicate dict key {key!r}")
                result[key] = self.value(depth + 1)
            return result
        if tag == _TAG_S:
            return self.string()
        if tag == _TAG_A:
            return self.array()
        if tag == _TAG_L:
            return [self.value(depth + 1) for _ in range(self.container_size(depth, "list"))]
        if tag == _TAG_N:
            return None
        if tag == _TAG_T:
            return True
        if tag == _TAG_F:
            return False
        if tag == _TAG_I:
            return _I64.unpack(self.take(8, "int"))[0]
        if tag == _TAG_FLOAT:
            return _F64.unpack(self.take(8, "float"))[0]
        if tag == _TAG_B:
            return bytes(self.take(self.length("bytes"), "bytes"))
        raise ProtocolError(f"unknown type tag {bytes([tag])!r} at offset {self.pos - 1}")

    def array(self) -> np.ndarray:
        code, ndim = _ARRAY_HEAD.unpack(self.take(_ARRAY_HEAD.size, "array dtype and ndim"))
        if code >= len(_DTYPES):
            raise ProtocolError(f"array dtype code {code} is not in the allow-list")
        dtype = _DTYPES[code]
        if ndim > MAX_NDIM:
            raise ProtocolError(f"array has {ndim} dimensions (max {MAX_NDIM})")
        shape = tuple(self.u64("array dim") for _ in range(ndim))
        nbytes = self.u64("array byte count")
        # Python ints: the product cannot overflow, whatever the announced dims.
        if nbytes != math.prod(shape) * dtype.itemsize:
            raise ProtocolError(f"array {shape} of {dtype} cannot take {nbytes} bytes")
        raw = self.take(nbytes, "array data")
        try:
            view = np.frombuffer(raw, dtype=dtype).reshape(shape)
        except ValueError as e:  # e.g. zero-size with dims beyond numpy's intp
            raise ProtocolError(f"array of shape {shape} cannot be built: {e}") from None
        # astype copies: the result owns writeable memory, in native byte order.
        return view.astype(dtype.newbyteorder("="))


def decode(payload: bytes, *, limits: Limits = DEFAULT_LIMITS) -> object:
    """Parse one payload (no header) into plain values; raise ProtocolError if malformed."""
    data = memoryview(payload).cast("B")
    if len(data) > limits.max_message_bytes:
        raise ProtocolError(f"payload of {len(data)} bytes is over {limits.max_message_bytes}")
    decoder = _Decoder(data, limits)
    value = decoder.value(0)
    if decoder.left():
        raise ProtocolError(f"{decoder.left()} trailing bytes after the value")
    return value


def send_message(sock: socket.socket, value: object, *, limits: Limits = DEFAULT_LIMITS) -> None:
    """Encode ``value`` and write header + payload to ``sock``."""
    payload = encode(value, limits=limits)
    header = _HEADER.pack(MAGIC, VERSION, len(payload))
    try:
        if len(payload) <= _COALESCE_BYTES:
            sock.sendall(header + payload)
        else:
            sock.sendall(header)
            sock.sendall(payload)
    except ConnectionError as e:  # broken pipe / reset: the worker is gone
        raise ConnectionClosed(f"peer closed the connection while sending ({e})") from None


def _recv_exact(
    sock: socket.socket, n: int, deadline: float | None, message_start: bool
) -> bytearray:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        remaining = None if deadline is None else deadline - time.monotonic()
        try:
            if remaining is not None and remaining <= 0:
                raise TimeoutError
            sock.settimeout(remaining)  # None: block
            k = sock.recv_into(view[got:])
        except TimeoutError:
            raise ProtocolTimeout(f"no message before the deadline ({got}/{n} bytes)") from None
        except ConnectionError:  # reset by a dying peer: same as EOF for us
            k = 0
        if k == 0:
            if message_start and got == 0:
                raise ConnectionClosed("peer closed the connection")
            raise ProtocolError(f"truncated message: connection closed after {got} of {n} bytes")
        got += k
    return buf


def recv_message(
    sock: socket.socket, *, limits: Limits = DEFAULT_LIMITS, deadline: float | None = None
) -> object:
    """Read one message from ``sock`` and decode it.

    ``deadline`` is a time.monotonic() instant (None: wait forever).  After a
    ProtocolTimeout or ProtocolError the stream position is unknown: drop the
    connection (restart the worker) rather than reading on.
    """
    previous = sock.gettimeout()
    try:
        header = _recv_exact(sock, HEADER_SIZE, deadline, message_start=True)
        magic, version, length = _HEADER.unpack(header)
        if magic != MAGIC:
            raise ProtocolError(f"bad magic {magic!r}: not a hwgrade message")
        if version != VERSION:
            raise ProtocolError(f"protocol version {version}, expected {VERSION}")
        if length > limits.max_message_bytes:  # refuse before reading or allocating
            raise ProtocolError(
                f"message announces {length} bytes, over the {limits.max_message_bytes} limit"
            )
        payload = _recv_exact(sock, length, deadline, message_start=False)
    finally:
        sock.settimeout(previous)
    return decode(payload, limits=limits)
