"""What assignment checks use: fail with expected/actual/hint, and comparisons
that say what went wrong in a beginner's terms.

A check is a pytest test in an assignment's checks/ (public) or hidden/ folder:

    @pytest.mark.points(4)
    @pytest.mark.function("activations.relu")
    def test_relu_derivative_at_zero(submission):
        '''relu_derivative(0) is 0, as in Playground'''
        got = expect_array(submission.activations.relu_derivative(np.zeros(3)), shape=(3,))
        assert_close(got, np.zeros(3), hint="Playground uses 0 for z <= 0.")

Every student-facing text (message, expected, actual, hint, what) may be a plain str
(shown as it is in every language) or a grader.i18n Message from the assignment's
catalogs (rendered in the language the submission is graded in); see grader/i18n.py.
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np

from grader.i18n import GRADER, Text


class CheckFailure(AssertionError):
    """A check failed; carries what a student needs to fix it."""

    def __init__(self, message: str, *, expected: Any = None, actual: Any = None,
                 hint: str | None = None, function: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.function = function  # overrides the check's function marker (e.g. found by blame)
        self.expected = None if expected is None else describe(expected)
        self.actual = None if actual is None else describe(actual)
        self.hint = hint


def fail(message: str, *, expected: Any = None, actual: Any = None,
         hint: str | None = None, function: str | None = None) -> NoReturn:
    raise CheckFailure(message, expected=expected, actual=actual, hint=hint, function=function)


def seeded_rng(seed: int) -> dict[str, Any]:
    """What to pass for an `rng` argument: the worker calls the student's function
    with numpy.random.default_rng(seed) in its place (a Generator cannot cross)."""
    return {"__rng__": "pcg64", "seed": int(seed)}


def describe(value: Any, limit: int = 300) -> str:
    """A short, exact-enough description of a value for a failure message (text, such as a
    Message, as it is; an array as a Message, so its words are translated)."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.generic):  # one element of an array
        return repr(value.item())
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=17, threshold=20, edgeitems=3, linewidth=limit):
            body = np.array2string(value, separator=", ")
        dtype, shape = str(value.dtype), value.shape
        room = limit - len(GRADER("check.array", dtype=dtype, shape=shape, body=""))
        if len(body) > room:
            body = body[: max(room - 1, 0)] + "…"
        return GRADER("check.array", dtype=dtype, shape=shape, body=body)
    text = f"{type(value).__name__} {value!r}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def expect_array(value: Any, *, shape: tuple[int, ...], dtype: Any = np.float64,
                 hint: str | None = None) -> np.ndarray:
    """value as an ndarray of this shape and dtype, or a failure saying which is wrong.

    A Python float is accepted where a 0-d array is expected."""
    dtype = np.dtype(dtype)
    if shape == () and type(value) is float and dtype == np.float64:
        return np.asarray(value)
    if not isinstance(value, np.ndarray):
        fail(GRADER("check.not_array", type=type(value).__name__),
             expected=GRADER("check.an_array", dtype=str(dtype), shape=shape), actual=value,
             hint=hint or GRADER("check.hint_numpy"))
    if value.shape != shape:
        fail(GRADER("check.wrong_shape", shape=value.shape, expected=shape),
             expected=GRADER("check.shape", shape=shape), actual=value,
             hint=hint or GRADER("check.hint_shape"))
    if value.dtype != dtype:
        fail(GRADER("check.wrong_dtype", dtype=str(value.dtype), expected=str(dtype)),
             expected=GRADER("check.dtype", dtype=str(dtype)), actual=value,
             hint=hint or GRADER("check.hint_dtype_bool" if value.dtype == bool
                                 else "check.hint_dtype", dtype=str(dtype)))
    return value


def assert_close(actual: np.ndarray, expected: np.ndarray, *, atol: float = 1e-12,
                 rtol: float = 1e-9, what: str | None = None, hint: str | None = None,
                 inputs: np.ndarray | None = None) -> None:
    """Elementwise comparison (NaN equals NaN) naming the worst element.

    `what` names the compared elements, plural ("weights after one update"; default
    "values"); a Message is used as it is for one element too, a plain English str loses
    its plural s there, as it always did."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    with np.errstate(all="ignore"):
        bad = ~np.isclose(actual, expected, atol=atol, rtol=rtol, equal_nan=True)
    if not bad.any():
        return
    if actual.ndim == 0:
        if what is None:
            one = GRADER("check.value")
        elif isinstance(what, Text):
            one = what
        else:
            one = what[:-1] if what.endswith("s") else what
        fail(GRADER("check.value_wrong", what=one),
             expected=expected[()], actual=actual[()], hint=hint)
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    at = (GRADER("check.at_input", value=describe(inputs[index]))
          if inputs is not None and inputs.ndim else "")
    fail(GRADER("check.values_wrong", count=int(bad.sum()), size=actual.size,
                what=GRADER("check.values") if what is None else what, index=index, at=at),
         expected=expected[index], actual=actual[index], hint=hint)
