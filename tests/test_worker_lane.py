"""The fast lane (grader/worker/lane.py): same outcomes as the socket, strict frames."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from test_worker import MOD, write

from grader.worker import lane, protocol
from grader.worker.client import Call, Worker, WorkerLimits
from grader.worker.errors import (
    BadReturn,
    MissingFunction,
    StudentException,
    StudentExit,
    StudentTimeout,
)

pytestmark = pytest.mark.skipif(not lane.supported(), reason="the lane is Linux/x86-64 only")

LANE_MOD = MOD + """

def scale(x, k):
    return x * k

def batches(n, size):
    return [np.arange(i, min(i + size, n)) for i in range(0, n, size)]

def slow(seconds):
    import time
    time.sleep(seconds)
    return np.array([seconds])

def die():
    import os
    os._exit(3)

def strange():
    return {"a": [1, 2.5, None, "x"]}

def huge():
    return np.zeros(3 * 2**20)
"""


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    staged = write(tmp_path_factory.mktemp("lane") / "sub", "mod", LANE_MOD)
    # 1 MiB lane areas, so that a 24 MB value does not fit the lane.
    limits = WorkerLimits(call_timeout=2, lane_mib=1, max_message_bytes=64 * 2**20)
    with Worker(staged, ["mod"], limits=limits) as w:
        yield w


def lane_seq(worker: Worker) -> int:
    session = worker._res.session
    return session.lane.seq if session is not None and session.lane is not None else -1


CALLS = [
    Call("mod", "add", (np.arange(6.0).reshape(2, 3), 1.5)),
    Call("mod", "add", (np.array(2.0), np.float64(3))),
    Call("mod", "add", (np.zeros((0, 4), dtype=np.int32), 1)),
    Call("mod", "scale", (np.ones((2, 2), dtype=np.float32), 3)),
    Call("mod", "scale", (np.arange(4, dtype=">f8"), 2.0)),  # non-native order: as "X"
    Call("mod", "batches", (10, 3)),
    Call("mod", "echo", ("L1", None, -7, 2**62)),
    Call("mod", "strange"),
    Call("mod", "nan"),
]


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return (isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            _same(a[k], b[k]) for k in a)
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    return type(a) is type(b) and a == b


def test_values_come_back_exactly_as_over_the_socket(worker):
    plain = worker.call_many(CALLS)
    before = lane_seq(worker)
    with worker.fast_lane():
        fast = worker.call_many(CALLS)
    assert lane_seq(worker) == before + 2  # one call, one END
    for call, a, b in zip(CALLS, plain, fast, strict=True):
        assert _same(a, b), (call, a, b)


def test_errors_are_the_same_student_errors(worker):
    calls = [Call("mod", "boom", (1,)), Call("mod", "nope"), Call("mod", "has_array"),
             Call("mod", "exit_call"), Call("mod", "not_callable")]
    plain = worker.call_many(calls)
    with worker.fast_lane():
        fast = worker.call_many(calls)
    for a, b in zip(plain, fast, strict=True):
        assert type(a) is type(b) and str(a) == str(b)
    assert isinstance(fast[0], StudentException) and "mod.py" in str(fast[0])
    assert isinstance(fast[1], MissingFunction)
    assert isinstance(fast[3], StudentExit)


def test_a_value_too_big_for_the_lane_is_an_error_of_that_call_only(worker):
    with worker.fast_lane():
        too_big, fine = worker.call_many([Call("mod", "huge"), Call("mod", "add", (1, 2))])
    assert isinstance(too_big, BadReturn) and fine == 3


def test_arguments_too_big_for_the_lane_go_over_the_socket(worker):
    x = np.ones(2**18)  # 2 MiB: over the 1 MiB area
    with worker.fast_lane():
        before = lane_seq(worker)
        got = worker.call("mod", "scale", x, 2.0)
        assert worker.call("mod", "add", 1, 2) == 3  # and back on the lane
        assert lane_seq(worker) > before
    assert (got == 2.0).all()


def test_keyword_arguments_leave_the_lane_and_come_back(worker):
    with worker.fast_lane():
        assert worker.call("mod", "add", 1, 2) == 3
        assert worker.call("mod", "echo", 1, k="v") == [[1], {"k": "v"}]
        assert worker.call("mod", "add", 2, 2) == 4


def test_a_slow_function_is_waited_for_and_a_hanging_one_times_out(worker):
    with worker.fast_lane():
        # 50 ms: past the spin, so both sides sleep on the doorbell
        assert worker.call("mod", "slow", 0.05)[0] == 0.05
        (outcome,) = worker.call_many([Call("mod", "slow", (30,))])
        assert isinstance(outcome, StudentTimeout)
        assert worker.call("mod", "add", 1, 2) == 3  # a new worker, a new lane


def test_a_worker_that_dies_in_the_lane_is_reported_and_replaced(worker):
    (plain,) = worker.call_many([Call("mod", "die")])
    with worker.fast_lane():
        (outcome,) = worker.call_many([Call("mod", "die")])
        assert isinstance(outcome, StudentExit) and str(outcome) == str(plain)
        assert worker.call("mod", "add", 1, 2) == 3


def test_a_lane_is_not_used_where_the_limits_turn_it_off(tmp_path):
    staged = write(tmp_path / "sub", "mod", LANE_MOD)
    with Worker(staged, ["mod"], limits=WorkerLimits(lane_mib=0)) as w, w.fast_lane():
        assert w.call("mod", "add", 1, 2) == 3
        assert w._res.session.lane is None


# --- frames ---------------------------------------------------------------------------

LIMITS = protocol.Limits(max_items=1000)


def reply_frame(*parts: bytes) -> memoryview:
    data = b"".join(parts)
    return memoryview(bytearray(data))


def one_result(body: bytes) -> bytes:
    return struct.pack("<Q", 1) + b"O" + body


def array_head(code: int, shape: tuple[int, ...]) -> bytes:
    return b"A" + struct.pack("<BB", code, len(shape)) + struct.pack(f"<{len(shape)}Q", *shape)


@pytest.mark.parametrize("frame, problem", [
    (struct.pack("<Q", 2), "expected 1 results"),
    (one_result(b"A"), "frame ends inside array head"),
    (one_result(array_head(99, (1,)) + b"\0" * 8), "dtype code 99"),
    (one_result(array_head(0, (2**40, 2**40)) + b"\0" * 8), "frame ends inside array data"),
    (one_result(array_head(0, (2,)) + b"\0" * 8), "frame ends inside array data"),
    (one_result(b"Z"), "unknown tag"),
    (one_result(b"N") + b"junk", "bytes after the frame"),
    (one_result(b"S" + struct.pack("<Q", 300) + b"x" * 300), "string over 255"),
    (one_result(b"S" + struct.pack("<Q", 2) + b"\xff\xfe"), "not UTF-8"),
    (one_result(b"L" + struct.pack("<Q", 2000)), "more than 1000 values"),
    (one_result(b"L" + struct.pack("<Q", 1) + b"L" + struct.pack("<Q", 0)), "unknown tag"),
    (one_result(b"X" + struct.pack("<Q", 4) + b"junk"), "type tag"),
    (struct.pack("<Q", 1) + b"Q", "unknown result tag"),
    (struct.pack("<Q", 1) + b"E" + struct.pack("<Q", 2) + b"xx", "tag"),
])
def test_malformed_reply_frames_are_refused(frame, problem):
    with pytest.raises(lane.LaneError, match=problem):
        lane.read_reply(reply_frame(frame), len(frame), 1, LIMITS)


def test_a_frame_longer_than_its_area_is_refused():
    with pytest.raises(lane.LaneError, match="in an area of"):
        lane.read_reply(memoryview(bytearray(8)), 9, 0, LIMITS)


def test_values_survive_a_frame_round_trip():
    area = memoryview(bytearray(1 << 16))
    values = [np.arange(12.0).reshape(3, 4), np.zeros((0, 2)), np.array(True), 1.5, -3,
              None, "L2", [np.arange(3), np.arange(0)], {"k": [1, "two"]}, 2**62]
    n = lane.write_request(area, [("m.f", values)])
    ((module, function, got),) = lane.read_request(area, n, LIMITS)
    assert (module, function) == ("m", "f")
    for a, b in zip(values, got, strict=True):
        assert _same(a, b), (a, b)


def test_a_frame_too_big_for_the_area_says_so():
    with pytest.raises(lane.FrameTooBig):
        lane.write_request(memoryview(bytearray(64)), [("m.f", [np.zeros(100)])])
