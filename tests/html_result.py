"""A realistic Day 65 result for the HTML report's tests, built without training:
four exercises (5-8) with 4-9 configurations each, 8 seeds, 50-point learning curves
(one point per 10 of 500 epochs) for the student and the reference, and a 50x50
decision boundary of a small hand-set network on Playground's two-arm spiral.

    result = day65_result()             # a GradeResult, deterministic
    result.experiments[0]["boundary"]   # the exercise-5 boundary, for instance
"""

from __future__ import annotations

import math

import numpy as np

from grader.results import CheckResult, GradeResult, SubmissionInfo

SEEDS = list(range(8))
EPOCHS, EVERY = 500, 10
GRID = 50
EXTENT = [-6.0, 6.0, -6.0, 6.0]
TURN = 1.75 * 2 * math.pi / 5  # Playground's spiral: angle t = 1.75 * 2pi * r / 5 (+pi)

EXERCISES = [
    (5, "Exercise 5: batch size", "batch_size",
     "Smaller batches make noisier but faster progress per epoch.",
     [("batch size 1", {"batch_size": 1}), ("batch size 5", {"batch_size": 5}),
      ("batch size 10", {"batch_size": 10}), ("batch size 25", {"batch_size": 25}),
      ("batch size 50", {"batch_size": 50})]),
    (6, "Exercise 6: learning rate", "learning_rate",
     "Too large a learning rate diverges; too small a one barely moves.",
     [(f"learning rate {lr:g}", {"learning_rate": lr}) for lr in (0.003, 0.03, 0.3, 1, 3)]),
    (7, "Exercise 7: activation", "activation",
     "At learning rate 1 only sigmoid converges.",
     [(name, {"activation": name, "learning_rate": 1})
      for name in ("tanh", "relu", "sigmoid", "linear")]),
    (8, "Exercise 8: L1/L2 regularization", "regularization",
     "Strong L1 kills links; strong L2 shrinks all weights.",
     [("none", {"regularization": None, "regularization_rate": 0})]
     + [(f"{kind} {rate:g}", {"regularization": kind, "regularization_rate": rate})
        for kind in ("L1", "L2") for rate in (0.001, 0.003, 0.01, 0.03)]),
]


def spiral(n: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Playground's spiral without noise: (points, labels), class +1 first."""
    i = np.arange(n // 2, dtype=np.float64)
    xs, labels = [], []
    for delta, label in ((0.0, 1.0), (math.pi, -1.0)):
        r = i / (n / 2) * 5
        t = 1.75 * i / (n / 2) * 2 * math.pi + delta
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        labels.append(np.full(len(i), label))
    return np.concatenate(xs), np.concatenate(labels)


def network(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A small hand-set network on polar features (r, angle): two hidden units
    cos/sin(angle - TURN r) that follow the arms, and a tanh output that says +1 on
    the +1 arm; its confidence fades near the centre like a real one's."""
    r = np.hypot(x, y)
    angle = np.arctan2(x, y)  # Playground's arms: x = r sin t, y = r cos t
    h1, h2 = np.cos(angle - TURN * r), np.sin(angle - TURN * r)
    return np.tanh((0.3 + 0.35 * np.minimum(r, 4)) * (1.6 * h1 + 0.3 * h2))


def boundary(label: str, seed: int = 0) -> dict:
    points, labels = spiral()
    order = np.random.default_rng(seed).permutation(len(points))
    train, test = order[: len(order) // 2], order[len(order) // 2:]
    x = np.linspace(EXTENT[0], EXTENT[1], GRID)
    y = np.linspace(EXTENT[3], EXTENT[2], GRID)  # row 0 is the top, y = +6
    xx, yy = np.meshgrid(x, y)
    rows = lambda idx: [[round(float(a), 4), round(float(b), 4), int(c)]  # noqa: E731
                        for (a, b), c in zip(points[idx], labels[idx], strict=True)]
    return {"label": label, "seed": seed, "extent": EXTENT,
            "values": np.round(network(xx, yy), 4).tolist(),
            "points": rows(train), "test_points": rows(test)}


def _curve(rng: np.random.Generator, final: float, speed: float) -> np.ndarray:
    """Test loss every EVERY epochs: decay from ~0.7 to final, a little noise."""
    epochs = np.arange(1, EPOCHS // EVERY + 1) * EVERY
    loss = final + (0.72 - final) * np.exp(-epochs / speed)
    return np.clip(loss + rng.normal(0, 0.004, len(epochs)), 0, None)


def _spread(rng, final: float, speed: float, runs: int, diverged: int) -> dict:
    median = _curve(rng, final, speed)
    p10, p90 = median * 0.6, np.minimum(median * 1.5, 1.2)
    pairs = lambda test: [[round(float(v * 0.9), 4), round(float(v), 4)]  # noqa: E731
                          for v in test]
    return {"median": round(float(median[-1]), 4), "p10": round(float(p10[-1]), 4),
            "p90": round(float(p90[-1]), 4), "diverged": diverged, "curve_every": EVERY,
            "curve": {"median": pairs(median), "p10": pairs(p10), "p90": pairs(p90)},
            **({"runs": runs} if runs else {})}


def _diverging(student: dict) -> dict:
    """Most seeds blow up: the median climbs, then is lost (null) from epoch 200 on."""
    for key in ("median", "p10", "p90"):
        student["curve"][key] = [None if i >= 20 else [round(0.7 * 1.2 ** i, 4)] * 2
                                 for i in range(len(student["curve"][key]))]
    student.update(median=None, p10=None, p90=None, diverged=6,
                   final_test=[0.61, 0.58] + [None] * 6)
    return student


def exercise(number: int, title: str, varied: str, observation: str, configs: list,
             rng: np.random.Generator) -> dict:
    base = {"activation": "tanh", "batch_size": 10, "learning_rate": 0.03,
            "regularization": None, "regularization_rate": 0, "epochs": EPOCHS,
            "dataset": "spiral", "noise": 0, "hidden": [8], "train_ratio": 50}
    entries = []
    for k, (label, changes) in enumerate(configs):
        final = 0.05 + 0.5 * rng.random()
        speed = 30 + 150 * rng.random()
        reference = _spread(rng, final, speed, runs=64, diverged=0)
        student = _spread(rng, final * (1 + 0.35 * rng.normal()), speed, runs=0,
                          diverged=int(k == 0))
        student["final_test"] = [None if (k == 0 and s == 1) else
                                 round(float(final * (0.7 + 0.6 * rng.random())), 4)
                                 for s in SEEDS]
        if label == "learning rate 3":  # a student whose update blows up at this rate
            student = _diverging(student)
        within = (student["median"] is not None
                  and reference["p10"] <= student["median"] <= reference["p90"])
        entries.append({"label": label, "config": {**base, **changes}, "seeds": SEEDS,
                        "student": student, "reference": reference, "within": within})
    return {"exercise": number, "title": title, "varied": varied,
            "observation": {"text": observation, "reproduced": number != 6},
            "passed": all(e["within"] for e in entries),
            "configs": entries, "boundary": boundary(entries[len(entries) // 2]["label"])}


def checks() -> list[CheckResult]:
    return [
        CheckResult(name="sigmoid_values", title="sigmoid(z) = 1 / (1 + exp(-z)), elementwise",
                    status="passed", points=2, max_points=2, function="activations.sigmoid"),
        CheckResult(name="sigmoid_stable", title="sigmoid is stable for huge |z|",
                    status="failed", points=0, max_points=3, function="activations.sigmoid",
                    message="the value is not finite", expected="0.0", actual="nan",
                    counterexample="z=array(-1e300)",
                    hint="Use exp(-|z|) so that nothing overflows."),
        CheckResult(name="sigmoid_derivative", title="sigmoid_derivative(z) = s * (1 - s)",
                    status="not_run", points=0, max_points=2,
                    needs=["sigmoid is stable for huge |z|"]),
        CheckResult(name="relu_values", title="relu(z) = max(z, 0)", status="passed",
                    points=2, max_points=2, function="activations.relu"),
        CheckResult(name="l1_update", title="regularized_update follows Playground's L1 rule",
                    status="error", points=0, max_points=3,
                    message="the grader could not run this check",
                    details="Traceback (most recent call last): ..."),
        CheckResult(name="minibatches_cover", title="minibatches cover every example once",
                    status="passed", points=3, max_points=3, hidden=True),
        CheckResult(name="exercise_5", title="Exercise 5 (batch size): trains like the "
                    "reference", status="passed", points=8, max_points=8),
    ]


def day65_result() -> GradeResult:
    rng = np.random.default_rng(65)
    experiments = [exercise(*spec, rng) for spec in EXERCISES]
    found = checks()
    return GradeResult(assignment="day65", score=sum(c.points for c in found),
                       max_score=sum(c.max_points for c in found), checks=found,
                       submission=SubmissionInfo(path="alice", kind="folder", sha256="ab" * 32),
                       experiments=experiments,
                       versions={"hwgrade": "0.1.0"}, timings={"total": 12.5})
