"""What one training run is: Playground's settings, validated, with its defaults."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from grader.playground.datasets import DATASETS
from grader.playground.features import ALL_FEATURES, PLAYGROUND_DEFAULT_FEATURES

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
REGULARIZATIONS = (None, "L1", "L2")
# The values Playground's UI offers (state.ts / index.html); other values are allowed.
UI_LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)
UI_REGULARIZATION_RATES = (0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10)


@dataclass(frozen=True)
class TrainConfig:
    """One Playground setting. Defaults are Playground's page-load defaults,
    except epochs (the browser runs until paused; the handout uses 500)."""

    dataset: str = "circle"
    noise: float = 0  # the UI's percent value, 0..50; the generators get noise / 100
    features: tuple[str, ...] = field(default=PLAYGROUND_DEFAULT_FEATURES)
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    learning_rate: float = 0.03
    batch_size: int = 10
    regularization: str | None = None
    regularization_rate: float = 0
    train_ratio: int = 50  # percent of the 500 points used for training
    epochs: int = 500

    def __post_init__(self) -> None:
        problems = []
        if self.dataset not in DATASETS:
            problems.append(f"dataset {self.dataset!r} is not one of {', '.join(DATASETS)}")
        if not 0 <= self.noise <= 100:
            problems.append(f"noise {self.noise} is outside 0..100")
        if not self.features or any(f not in ALL_FEATURES for f in self.features):
            problems.append(f"features {self.features} must be a non-empty subset of "
                            f"{', '.join(ALL_FEATURES)}")
        if any(not isinstance(h, int) or h < 1 for h in self.hidden):
            problems.append(f"hidden layer sizes {self.hidden} must be positive integers")
        if self.activation not in ACTIVATIONS:
            problems.append(
                f"activation {self.activation!r} is not one of {', '.join(ACTIVATIONS)}")
        if not self.learning_rate > 0:
            problems.append(f"learning rate {self.learning_rate} must be positive")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            problems.append(f"batch size {self.batch_size} must be a positive integer")
        if self.regularization not in REGULARIZATIONS:
            problems.append(f"regularization {self.regularization!r} is not one of none, L1, L2")
        if not self.regularization_rate >= 0:
            problems.append(f"regularization rate {self.regularization_rate} must be >= 0")
        if not 1 <= self.train_ratio <= 99:
            problems.append(f"train ratio {self.train_ratio} is outside 1..99")
        if not isinstance(self.epochs, int) or self.epochs < 0:
            problems.append(f"epochs {self.epochs} must be a non-negative integer")
        if problems:
            raise ValueError("; ".join(problems))
        # Playground orders the inputs itself; keep one spelling per setting.
        object.__setattr__(self, "features", tuple(f for f in ALL_FEATURES if f in self.features))

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return (len(self.features), *self.hidden, 1)

    @property
    def update_setting(self) -> tuple[float, float, str | None]:
        """(learning rate, regularization rate, kind): the plain numbers a student's
        regularized_update is called with, one call per distinct setting."""
        return (float(self.learning_rate), float(self.regularization_rate),
                self.regularization)

    def stack_key(self) -> tuple:
        """Settings that must be equal for runs to share one vectorized training
        (array shapes and the step schedule); activation, rates and
        regularization may differ within it."""
        return (self.dataset, self.noise, self.features, self.hidden, self.batch_size,
                self.train_ratio, self.epochs)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """to_dict's inverse (JSON has lists where the config has tuples)."""
        return cls(**{**d, "features": tuple(d["features"]), "hidden": tuple(d["hidden"])})

    def to_dict(self) -> dict:
        d = asdict(self)
        d["features"] = list(self.features)
        d["hidden"] = list(self.hidden)
        return d
