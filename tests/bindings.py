"""Day 65's component binding, from its manifest, for the tests that train with a
student's functions outside a grading."""

from __future__ import annotations

from pathlib import Path

from grader.assignment import find_assignment
from grader.experiments.run import experiment_binding

DAY65 = experiment_binding(find_assignment(str(Path(__file__).resolve().parents[1]
                                               / "assignments" / "day65")))
