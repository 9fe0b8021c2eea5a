"""What assignment checks use: fail with expected/actual/hint, and comparisons
that say what went wrong in a beginner's terms.

A check is a pytest test in an assignment's checks/ (public) or hidden/ folder:

    @pytest.mark.points(4)
    @pytest.mark.function("activations.relu")
    def test_relu_derivative_at_zero(submission):
        '''relu_derivative(0) is 0, as in Playground'''
        got = expect_array(submission.activations.relu_derivative(np.zeros(3)), shape=(3,))
        assert_close(got, np.zeros(3), hint="Playground uses 0 for z <= 0.")
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np


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
    """A short, exact-enough description of a value for a failure message."""
    if isinstance(value, str):
        return value
    if isinstance(value, np.generic):  # one element of an array
        return repr(value.item())
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=17, threshold=20, edgeitems=3, linewidth=limit):
            body = np.array2string(value, separator=", ")
        text = f"{value.dtype} array of shape {value.shape}: {body}"
    else:
        text = f"{type(value).__name__} {value!r}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def expect_array(value: Any, *, shape: tuple[int, ...], dtype: Any = np.float64,
                 hint: str | None = None) -> np.ndarray:
    """value as an ndarray of this shape and dtype, or a failure saying which is wrong.

    A Python float is accepted where a 0-d array is expected."""
    if shape == () and type(value) is float and np.dtype(dtype) == np.float64:
        return np.asarray(value)
    if not isinstance(value, np.ndarray):
        fail(f"returned a {type(value).__name__}, not a numpy array",
             expected=f"a {np.dtype(dtype)} array of shape {shape}", actual=value,
             hint=hint or "Build the result with numpy operations on the input array.")
    if value.shape != shape:
        fail(f"returned an array of shape {value.shape}, not {shape}",
             expected=f"shape {shape}", actual=value,
             hint=hint or "Work elementwise: the output has the input's shape.")
    if value.dtype != np.dtype(dtype):
        fail(f"returned {value.dtype} values, not {np.dtype(dtype)}",
             expected=f"dtype {np.dtype(dtype)}", actual=value,
             hint=hint or f"Convert with np.asarray(z, dtype=np.{np.dtype(dtype)}).")
    return value


def assert_close(actual: np.ndarray, expected: np.ndarray, *, atol: float = 1e-12,
                 rtol: float = 1e-9, what: str = "values", hint: str | None = None,
                 inputs: np.ndarray | None = None) -> None:
    """Elementwise comparison (NaN equals NaN) naming the worst element."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    with np.errstate(all="ignore"):
        bad = ~np.isclose(actual, expected, atol=atol, rtol=rtol, equal_nan=True)
    if not bad.any():
        return
    if actual.ndim == 0:
        fail(f"the {what[:-1] if what.endswith('s') else what} is wrong",
             expected=expected[()], actual=actual[()], hint=hint)
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    at = f" (input {describe(inputs[index])})" if inputs is not None and inputs.ndim else ""
    fail(f"{int(bad.sum())} of {actual.size} {what} are wrong; the first at index {index}{at}",
         expected=expected[index], actual=actual[index], hint=hint)
