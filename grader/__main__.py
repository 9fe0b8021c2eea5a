"""`python -m grader`: the hwgrade command."""

import os
import sys

# `python -m` puts the current folder first on sys.path; when that folder is a
# student's submission, its modules (numpy.py, json.py...) must never shadow
# the grader's own imports.
sys.path[:] = [p for p in sys.path if p not in ("", os.getcwd())]

from grader.cli import run  # noqa: E402

if __name__ == "__main__":
    run()
