"""The grader <-> worker wire format (grader/worker/protocol.py).

Fast tests (< 5 s): round trips, the refusals of the encoder, and the decoder
as a security boundary (malformed, truncated and mutated input never raises
anything but a ProtocolError-family exception).
"""

from __future__ import annotations

import enum
import math
import re
import socket
import struct
import threading
import time
from collections import OrderedDict

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.worker.protocol import (
    DEFAULT_LIMITS,
    HEADER_SIZE,
    MAGIC,
    VERSION,
    ConnectionClosed,
    EncodeError,
    Limits,
    ProtocolError,
    ProtocolTimeout,
    decode,
    encode,
    recv_message,
    send_message,
)

# No example database on disk, no per-example deadline (socket tests share the CI box).
FAST = settings(database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ALLOWED = [
    np.dtype(n)
    for n in (
        "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 "
        "float16 float32 float64 complex64 complex128"
    ).split()
]
U64 = struct.Struct("<Q")
HEADER = struct.Struct("<4sBQ")


def frame(payload: bytes, *, magic: bytes = MAGIC, version: int = VERSION) -> bytes:
    return HEADER.pack(magic, version, len(payload)) + payload


def assert_same(got, expected):
    """Exact equality: same types, dtypes, shapes and bits (NaN == NaN, -0.0 != 0.0)."""
    if isinstance(expected, tuple):
        expected = list(expected)
    assert type(got) is type(expected), (got, expected)
    if type(expected) is float:
        assert struct.pack("<d", got) == struct.pack("<d", expected) or (
            math.isnan(got) and math.isnan(expected)
        )
    elif type(expected) is list:
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            assert_same(g, e)
    elif type(expected) is dict:
        assert list(got) == list(expected)
        for key in expected:
            assert_same(got[key], expected[key])
    elif type(expected) is np.ndarray:
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert got.tobytes() == expected.tobytes()
    else:
        assert got == expected


def roundtrip(value, **kw):
    return decode(encode(value, **kw), **kw)


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    with a, b:
        yield a, b


# --- round trips -----------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.binary()
)
nested = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@FAST
@given(nested)
def test_nested_values_roundtrip(value):
    assert_same(roundtrip(value), value)


def any_byte_order(dtype):
    return st.sampled_from([dtype, dtype.newbyteorder(">")])


@FAST
@given(
    hnp.arrays(
        dtype=st.sampled_from(ALLOWED).flatmap(any_byte_order),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
    )
)
def test_arrays_of_every_allowed_dtype_roundtrip(arr):
    got = roundtrip(arr)
    expected = arr.astype(arr.dtype.newbyteorder("="))  # big-endian arrives native
    assert_same(got, expected)
    assert got.dtype.isnative and got.flags.owndata and got.flags.writeable


def test_scalars_keep_their_exact_type():
    assert roundtrip(True) is True and roundtrip(False) is False
    assert type(roundtrip(1)) is int and roundtrip(1) == 1
    assert type(roundtrip(1.0)) is float
    assert_same(roundtrip(-0.0), -0.0)
    assert_same(roundtrip([math.inf, -math.inf, math.nan]), [math.inf, -math.inf, math.nan])
    assert_same(roundtrip((1, (2, "x"))), [1, [2, "x"]])
    assert roundtrip({"é": "ü\U0001f600"}) == {"é": "ü\U0001f600"}


@pytest.mark.parametrize(
    "scalar",
    [
        np.float32(1.5),
        np.float64(2.0),
        np.float16(3),
        np.int64(-4),
        np.uint8(5),
        np.bool_(True),
        np.complex64(1 + 2j),
        np.longlong(6),
        np.intc(7),
    ],
)
def test_numpy_scalars_arrive_as_0d_arrays_of_their_dtype(scalar):
    got = roundtrip(scalar)
    assert type(got) is np.ndarray and got.shape == () and got.dtype == scalar.dtype
    assert got.item() == scalar.item()


def test_float32_stays_float32_and_layouts_are_preserved():
    base = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for arr in (base, base.T, base[:, ::2, 1:], np.asfortranarray(base), base[:0]):
        got = roundtrip(arr)
        assert got.dtype == np.float32 and got.shape == arr.shape
        np.testing.assert_array_equal(got, arr)
    assert roundtrip(np.zeros((0, 3, 0), np.int16)).shape == (0, 3, 0)


def test_big_endian_input_arrives_correct():
    arr = np.array([1.5, -2.25, 1e300], dtype=">f8")
    got = roundtrip(arr)
    assert got.dtype == np.dtype("<f8") and got.tolist() == [1.5, -2.25, 1e300]


def test_ndarray_subclass_arrives_as_plain_array_and_runs_no_code():
    calls = []

    class Liar(np.ndarray):
        def __eq__(self, other):
            calls.append("__eq__")
            return True

        def __array_finalize__(self, obj):
            calls.append("__array_finalize__")

        def view(self, *args, **kwargs):
            calls.append("view")
            return super().view(*args, **kwargs)

        def __getattribute__(self, name):
            calls.append(name)
            return super().__getattribute__(name)

    liar = np.array([1.0, 2.0, 3.0]).view(Liar)
    calls.clear()
    payload = encode(liar)
    assert calls == []
    got = decode(payload)
    assert type(got) is np.ndarray
    assert got.tolist() == [1.0, 2.0, 3.0]
    assert not np.array_equal(got, [9.0, 9.0, 9.0])


# --- the encoder refuses, without calling into the value -------------------------------


class Recorder:
    """Every protocol-ish hook records that it was called."""

    def __init__(self):
        self.calls = []

    def __array__(self, *args, **kwargs):
        self.calls.append("__array__")
        return np.zeros(3)

    def __float__(self):
        self.calls.append("__float__")
        return 1.0

    def __index__(self):
        self.calls.append("__index__")
        return 1

    def __len__(self):
        self.calls.append("__len__")
        return 0

    def __iter__(self):
        self.calls.append("__iter__")
        return iter(())

    @property
    def __class__(self):
        self.calls.append("__class__")
        return np.ndarray


def test_object_with_array_hook_is_refused_without_calling_it():
    obj = Recorder()
    with pytest.raises(EncodeError, match="cannot send a value of type Recorder; return a numpy"):
        encode(obj)
    with pytest.raises(EncodeError, match="type Recorder"):
        encode({"ok": [1, 2, obj]})
    assert obj.calls == []


class Color(enum.IntEnum):
    RED = 1


class MyFloat(float):
    pass


class MyF64(np.float64):
    pass


@pytest.mark.parametrize(
    "value, name",
    [
        (Color.RED, "Color"),
        (MyFloat(1.0), "MyFloat"),
        (MyF64(1.0), "MyF64"),
        (1j, "complex"),
        ({1, 2}, "set"),
        (bytearray(b"x"), "bytearray"),
        (OrderedDict(a=1), "OrderedDict"),
        (np.float64, "type"),
        (print, "builtin_function_or_method"),
    ],
)
def test_other_types_are_refused_by_name(value, name):
    with pytest.raises(EncodeError, match=f"cannot send a value of type {name};"):
        encode(value)


@pytest.mark.parametrize(
    "arr",
    [
        np.array([1, "x"], dtype=object),
        np.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]),
        np.array(["ab"]),
        np.array([b"ab"]),
        np.array(["2024-01-01"], dtype="datetime64[D]"),
        np.array([1], dtype="timedelta64[s]"),
        pytest.param(
            np.array([1.0], dtype=np.longdouble),
            marks=pytest.mark.skipif(
                np.dtype(np.longdouble).itemsize == 8, reason="is float64 here"
            ),
        ),
        np.str_("x"),
        np.datetime64("2024-01-01"),
    ],
    ids=lambda a: str(a.dtype),
)
def test_unsupported_dtypes_are_refused_by_name(arr):
    with pytest.raises(EncodeError, match=re.escape(f"array of dtype {np.asarray(arr).dtype};")):
        encode(arr)


def test_encoder_enforces_the_limits():
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(EncodeError, match="nested deeper"):
        encode(cyclic)
    with pytest.raises(EncodeError, match="64-bit"):
        encode(2**63)
    with pytest.raises(EncodeError, match="64-bit"):
        encode(-(2**63) - 1)
    with pytest.raises(EncodeError, match="Unicode"):
        encode("\ud800")
    with pytest.raises(EncodeError, match="dict key of type int"):
        encode({1: 2})
    small = Limits(max_message_bytes=1000, max_items=10, max_string_bytes=5, max_depth=2)
    with pytest.raises(EncodeError, match="items"):
        encode(list(range(10)), limits=small)
    with pytest.raises(EncodeError, match="too long"):
        encode("abcdef", limits=small)
    with pytest.raises(EncodeError, match="too large"):
        encode(np.zeros(200), limits=small)
    with pytest.raises(EncodeError, match="nested deeper"):
        encode([[[]]], limits=small)
    assert roundtrip([[]], limits=small) == [[]]
    with pytest.raises(EncodeError, match="dimensions"):
        encode(np.zeros((1,) * 33))


# --- the decoder refuses malformed payloads ---------------------------------------------


def array_payload(code: int, shape: tuple[int, ...], nbytes: int, data: bytes = b"") -> bytes:
    dims = b"".join(U64.pack(n) for n in shape)
    return b"a" + bytes([code, len(shape)]) + dims + U64.pack(nbytes) + data


def string_payload(raw: bytes, tag: bytes = b"s") -> bytes:
    return tag + U64.pack(len(raw)) + raw


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"", "truncated"),
        (b"?", "unknown type tag"),
        (b"N\x00", "trailing bytes"),
        (b"i\x01\x02", "truncated"),
        (string_payload(b"\xff\xfe"), "UTF-8"),
        (string_payload(b"\xed\xa0\x80"), "UTF-8"),  # an encoded surrogate
        (b"s" + U64.pack(2**64 - 1), "over"),
        (b"l" + U64.pack(2**40), "members"),
        (b"d" + U64.pack(1) + b"i" + bytes(8) + b"N", "not a str"),
        (b"d" + U64.pack(2) + (string_payload(b"k") + b"N") * 2, "duplicate"),
        (b"l" + U64.pack(1) + b"l" + U64.pack(0), None),  # fine: control
        (array_payload(14, (1,), 1, b"\x00"), "allow-list"),
        (array_payload(255, (1,), 1, b"\x00"), "allow-list"),
        (array_payload(11, (2, 2), 24, bytes(24)), "cannot take 24 bytes"),
        (array_payload(11, (2, 2), 32, bytes(24)), "truncated"),
        (array_payload(11, (2**40, 2**40), 2**64 - 1), "cannot take"),
        (array_payload(11, (2**30, 2**30), 2**63), "truncated"),  # refused before allocating
        (array_payload(11, (0, 2**62, 2**62), 0), "cannot be built"),
        (array_payload(0, (1,) * 33, 1, b"\x00"), "dimensions"),
        (b"a\x0b", "truncated"),
    ],
)
def test_malformed_payloads_are_refused(payload, message):
    if message is None:
        assert decode(payload) == [[]]
        return
    with pytest.raises(ProtocolError, match=message):
        decode(payload)


def test_decoder_enforces_depth_and_item_limits():
    deep = b"l" + U64.pack(1)
    assert decode(deep * 32 + b"N") is not None
    with pytest.raises(ProtocolError, match="nested deeper than 32"):
        decode(deep * 33 + b"N")
    many = b"l" + U64.pack(20) + b"N" * 20
    limits = Limits(max_items=20)
    with pytest.raises(ProtocolError, match="members"):
        decode(many, limits=limits)
    assert len(decode(many, limits=Limits(max_items=21))) == 20
    with pytest.raises(ProtocolError, match="over 4"):
        decode(string_payload(b"abcde"), limits=Limits(max_string_bytes=4))
    with pytest.raises(ProtocolError, match="over 8"):
        decode(string_payload(b"abcde"), limits=Limits(max_message_bytes=8))


VALID_PAYLOADS = [
    encode(
        {
            "a": [1, -2.5, None, True, False, "héllo", b"\x00\xff"],
            "arr": np.arange(6, dtype=np.float32).reshape(2, 3),
            "s": np.int16(7),
            "e": [np.zeros((0, 2)), {}],
        }
    ),
    encode([np.arange(4, dtype=">c16"), "x" * 20, [[[[1]]]]]),
]


@pytest.mark.parametrize("payload", VALID_PAYLOADS)
def test_every_truncation_of_a_payload_is_a_protocol_error(payload):
    for cut in range(len(payload)):
        with pytest.raises(ProtocolError):
            decode(payload[:cut])


@FAST
@given(
    st.sampled_from(VALID_PAYLOADS),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_mutated_payloads_decode_or_raise_protocol_error(payload, flips):
    mutated = bytearray(payload)
    for index, byte in flips:
        mutated[index % len(mutated)] = byte
    try:
        decode(bytes(mutated))
    except ProtocolError:
        pass


@FAST
@given(st.binary(max_size=64))
def test_random_bytes_decode_or_raise_protocol_error(payload):
    try:
        decode(payload)
    except ProtocolError:
        pass


# --- framing over a real socketpair -----------------------------------------------------


def test_messages_roundtrip_in_sequence(pair):
    a, b = pair
    values = [None, {"x": np.eye(3, dtype=np.float32)}, "done"]
    for value in values:
        send_message(a, value)
    for value in values:
        assert_same(recv_message(b, deadline=time.monotonic() + 5), value)


def test_ten_megabyte_array_crosses_a_socketpair(pair):
    a, b = pair
    arr = np.random.default_rng(0).standard_normal(10 * 2**20 // 8)
    errors = []

    def send():
        try:
            send_message(a, arr)
        except Exception as e:  # reported by the main thread
            errors.append(e)

    sender = threading.Thread(target=send)
    sender.start()
    got = recv_message(b, deadline=time.monotonic() + 20)
    sender.join()
    assert errors == []
    assert_same(got, arr)


def test_every_truncated_message_is_protocol_error_or_connection_closed():
    message = frame(VALID_PAYLOADS[1])
    for cut in range(len(message)):
        a, b = socket.socketpair()
        with a, b:
            a.sendall(message[:cut])
            a.shutdown(socket.SHUT_WR)
            expected = ConnectionClosed if cut == 0 else ProtocolError
            with pytest.raises(expected) as info:
                recv_message(b, deadline=time.monotonic() + 5)
            if cut:
                assert type(info.value) is ProtocolError
                assert "truncated" in str(info.value)


def test_clean_close_between_messages_is_connection_closed(pair):
    a, b = pair
    send_message(a, 1)
    a.close()
    assert recv_message(b) == 1
    with pytest.raises(ConnectionClosed):
        recv_message(b)
    with pytest.raises(ConnectionClosed):
        send_message(b, np.zeros(2**18))  # the peer is gone: broken pipe


def test_oversize_announced_length_is_refused_without_reading_the_payload(pair):
    a, b = pair
    a.sendall(HEADER.pack(MAGIC, VERSION, 100 * 10**9) + b"still here")
    with pytest.raises(ProtocolError, match="over the .* limit"):
        recv_message(b, deadline=time.monotonic() + 5)
    b.settimeout(5)
    assert b.recv(100) == b"still here"  # not a byte of the payload was consumed


def test_limit_is_the_callers(pair):
    a, b = pair
    send_message(a, "x" * 100)
    with pytest.raises(ProtocolError, match="over the 50 limit"):
        recv_message(b, limits=Limits(max_message_bytes=50))


@pytest.mark.parametrize(
    "message, match",
    [
        (frame(b"N", magic=b"HTTP"), "bad magic"),
        (frame(b"N", version=2), "version 2"),
        (b"Traceback (most recent call last):\n", "bad magic"),
    ],
)
def test_bad_headers_are_refused(pair, message, match):
    a, b = pair
    a.sendall(message)
    with pytest.raises(ProtocolError, match=match):
        recv_message(b, deadline=time.monotonic() + 5)


def test_recv_times_out_when_nothing_arrives(pair):
    a, b = pair
    b.settimeout(7.0)
    start = time.monotonic()
    with pytest.raises(ProtocolTimeout):
        recv_message(b, deadline=start + 0.05)
    assert 0.04 <= time.monotonic() - start < 2
    assert b.gettimeout() == 7.0  # the caller's setting is restored
    with pytest.raises(ProtocolTimeout):
        recv_message(b, deadline=time.monotonic() - 1)  # already passed


def test_recv_times_out_in_the_middle_of_a_message(pair):
    a, b = pair
    a.sendall(frame(b"N" * 10)[: HEADER_SIZE + 3])
    with pytest.raises(ProtocolTimeout, match="deadline"):
        recv_message(b, deadline=time.monotonic() + 0.05)


# --- the API around the codec -----------------------------------------------------------


def test_exceptions_form_one_family():
    for exc in (ProtocolTimeout, ConnectionClosed, EncodeError):
        assert issubclass(exc, ProtocolError)
    assert issubclass(ProtocolError, Exception)


def test_limits_are_frozen_and_validated():
    assert DEFAULT_LIMITS == Limits()
    assert DEFAULT_LIMITS.max_message_bytes == 512 * 2**20
    assert (DEFAULT_LIMITS.max_depth, DEFAULT_LIMITS.max_items) == (32, 1_000_000)
    assert DEFAULT_LIMITS.max_string_bytes == 16 * 2**20
    with pytest.raises(AttributeError):
        DEFAULT_LIMITS.max_depth = 3  # type: ignore[misc]
    with pytest.raises(ValueError):
        Limits(max_items=-1)
    with pytest.raises(ValueError):
        Limits(max_depth=10_000)
