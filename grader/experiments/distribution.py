"""Is a student's 500-epoch result a plausible draw from the reference's distribution?

Training on the spiral is chaotic: two correct implementations that round
differently end the same seed's run at different losses. So the K runs a
student's functions train (seeds 0..K-1) are judged against the final test
losses of the reference solution's N calibration runs, not run by run:

- the band is the range of the N reference losses, widened on both sides by
  MARGIN times its width (at least MIN_MARGIN), so that a run that follows the
  reference run of the same seed to within rounding is always inside;
- a run that diverged (NaN) counts as inside only if some reference run
  diverged too;
- the result passes when at most max_outside(K) of the K runs are outside: 5 of 8,
  the same fraction for another seed count (rounded down: 4 seeds allow 2).

If a correct implementation's runs are fresh draws from the reference
distribution (the chaotic configurations; elsewhere they follow the reference
run of the same seed and are inside by construction), the probability mass
outside the range of N draws is Beta(2, N - 1) distributed, so the number of
its K runs outside is beta-binomial and it fails a configuration with
probability P(BetaBinomial(K, 2, N - 1) > max_outside(K)), before the margin,
which only lowers it: `false_fail_rate`. A wrong function moves most runs far
away (a diverging or non-learning network ends near 0.5 or above, the
reference near 0.05).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MARGIN = 0.1  # of the band's width, on each side
MIN_MARGIN = 1e-3  # absolute test loss
OUTSIDE_OF_8 = 5  # of K = 8 runs: fails when 6 or more are outside


def max_outside(runs: int) -> int:
    """How many of `runs` graded runs may fall outside the band: 5 of 8, the same
    fraction (rounded down) for the seed count an assignment's manifest sets."""
    return OUTSIDE_OF_8 * runs // 8


@dataclass(frozen=True)
class Verdict:
    passed: bool
    outside: int  # the student's runs outside the band
    runs: int
    low: float
    high: float
    reference_diverged: int


def band(reference: Sequence[float | None]) -> tuple[float, float]:
    finite = np.array([r for r in reference if r is not None], dtype=np.float64)
    if not len(finite):
        return math.nan, math.nan
    low, high = float(finite.min()), float(finite.max())
    margin = max(MARGIN * (high - low), MIN_MARGIN)
    return low - margin, high + margin


def judge(student: Sequence[float | None], reference: Sequence[float | None]) -> Verdict:
    """student: the final test loss of each of the K runs (None: diverged);
    reference: the same for the N calibration runs."""
    low, high = band(reference)
    diverged = sum(r is None for r in reference)
    outside = 0
    for loss in student:
        if loss is None or not math.isfinite(loss):
            outside += diverged == 0
        elif not low <= loss <= high:
            outside += 1
    return Verdict(outside <= max_outside(len(student)), outside, len(student), low, high,
                   diverged)


def false_fail_rate(runs: int, reference_runs: int, allowed: int | None = None) -> float:
    """Upper bound on the chance that a correct implementation fails one configuration
    (see the module doc): P(BetaBinomial(runs, 2, reference_runs - 1) > allowed), with
    allowed = max_outside(runs) unless given."""
    allowed = max_outside(runs) if allowed is None else allowed
    a, b = 2, reference_runs - 1

    def log_beta(x: float, y: float) -> float:
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)

    return sum(math.comb(runs, k) * math.exp(log_beta(k + a, runs - k + b) - log_beta(a, b))
               for k in range(allowed + 1, runs + 1))
