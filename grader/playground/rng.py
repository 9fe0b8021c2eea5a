"""Uniform random streams: NumPy's Generator, or Playground's seedrandom.

Everything random in a Playground run (data points, the shuffle, initial
weights) is drawn from one stream of doubles in [0, 1), in the browser's order.
Two sources can feed that stream:

- an int seed: ``numpy.random.default_rng(seed)`` (fast, the default);
- a str seed: seedrandom 2.4.x's ARC4 generator, which Playground installs as
  ``Math.random`` (``Math.seedrandom(state.seed)``), so that a Playground seed
  string reproduces the browser's data and initial weights exactly.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

Seed = int | str

_WIDTH = 256  # seedrandom: bytes per RC4 output
_MASK = _WIDTH - 1
_START_DENOM = _WIDTH**6  # each double starts from 6 key-stream bytes (2^48)
_SIGNIFICANCE = 2**52  # ... and is filled up to 52 significant bits
_OVERFLOW = 2 * _SIGNIFICANCE


class UniformStream(Protocol):
    def random(self, n: int) -> np.ndarray:
        """The next n doubles in [0, 1), float64, in stream order."""

    def next(self) -> float:
        """The next double in [0, 1)."""


class NumpyStream:
    """Doubles from a NumPy Generator (the engine's default mode)."""

    def __init__(self, seed: int) -> None:
        self._gen = np.random.default_rng(seed)

    def random(self, n: int) -> np.ndarray:
        return self._gen.random(n)

    def next(self) -> float:
        return float(self._gen.random())


class SeedRandom:
    """seedrandom 2.4.x (``Math.seedrandom(seed)``), its ARC4-based generator."""

    def __init__(self, seed: str) -> None:
        key = _mix_key(seed)
        if not key:  # seedrandom: an empty key becomes [0]
            key = [0]
        s = list(range(_WIDTH))
        j = 0
        for i in range(_WIDTH):  # the RC4 key schedule
            j = (j + key[i % len(key)] + s[i]) & _MASK
            s[i], s[j] = s[j], s[i]
        self._s = s
        self._i = 0
        self._j = 0
        self._bytes(_WIDTH)  # seedrandom drops the first 256 outputs (RC4-drop[256])

    def _bytes(self, count: int) -> int:
        """RC4 key-stream bytes as one big-endian integer (seedrandom's ``g``)."""
        s, i, j, r = self._s, self._i, self._j, 0
        for _ in range(count):
            i = (i + 1) & _MASK
            t = s[i]
            j = (j + t) & _MASK
            s[i] = s[j]
            s[j] = t
            r = r * _WIDTH + s[(s[i] + t) & _MASK]
        self._i, self._j = i, j
        return r

    def next(self) -> float:
        # seedrandom's prng(): a 48-bit numerator, filled byte by byte to 52
        # significant bits, then shifted right so it never rounds up to 1.
        n, d, x = self._bytes(6), _START_DENOM, 0
        while n < _SIGNIFICANCE:
            n = (n + x) * _WIDTH
            d *= _WIDTH
            x = self._bytes(1)
        while n >= _OVERFLOW:
            n //= 2
            d //= 2
            x >>= 1
        return (n + x) / d

    def random(self, n: int) -> np.ndarray:
        return np.array([self.next() for _ in range(n)], dtype=np.float64)


def _mix_key(seed: str) -> list[int]:
    """seedrandom's ``mixkey(flatten(seed))``: the RC4 key for a seed string."""
    key: list[int] = []
    smear = 0
    # JavaScript's charCodeAt walks UTF-16 code units.
    units = np.frombuffer(seed.encode("utf-16-le"), dtype="<u2").tolist()
    for j, code in enumerate(units):
        slot = j & _MASK
        previous = key[slot] if slot < len(key) else 0  # undefined * 19 is NaN, NaN ^ x is x
        smear ^= previous * 19
        value = (smear + code) & _MASK
        if slot < len(key):
            key[slot] = value
        else:
            key.append(value)
    return key


def make_stream(seed: Seed) -> UniformStream:
    """An int seed selects NumPy's generator; a str seed Playground's seedrandom."""
    if isinstance(seed, bool) or not isinstance(seed, int | str):
        raise TypeError(f"a seed is an int or a Playground seed string, not {seed!r}")
    if isinstance(seed, str):
        return SeedRandom(seed)
    return NumpyStream(seed)
