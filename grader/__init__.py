"""hwgrade: an autograder for TensorFlow-Playground-style homework."""

__version__ = "0.1.0"
