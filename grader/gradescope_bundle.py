"""`hwgrade gradescope`: an assignment's Gradescope autograder, as the .zip Gradescope takes.

    write_bundle(find_assignment("day65"), Path("autograder.zip"))

The zip holds, at its root (Gradescope unpacks it into /autograder/source):
  setup.sh         run once when Gradescope builds the image: a virtual environment
                   in /autograder/hwgrade-venv with hwgrade (release.INSTALL_SPEC)
  run_autograder   run per submission: `hwgrade check` with every check, hidden ones
                   included, writing /autograder/results/results.json in the bundle's
                   language (--lang when it was built; $HWGRADE_LANG overrides it)
  assignment/      the assignment folder, hidden/ included (Gradescope's copy is the
                   instructor's, never the students'); caches left out
The zip is reproducible: same assignment, same bytes (fixed order and timestamps).
"""

from __future__ import annotations

import io
import shlex
import zipfile
from pathlib import Path

from grader import release
from grader.assignment import Assignment
from grader.i18n import DEFAULT_LANG, LANGS
from grader.report.common import write_atomic_bytes

FOLDER = "assignment"  # where the assignment goes inside the bundle (and /autograder/source)
VENV = "/autograder/hwgrade-venv"
_SKIP = {"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints", ".git"}
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: reproducible bundles


class BundleError(Exception):
    """The bundle cannot be built (a usage error: wrong assignment copy or destination)."""


def setup_script() -> str:
    """setup.sh; it installs what students' CI installs (release.INSTALL_SPEC, read now so
    that a course that sets it gets it here too)."""
    return f"""\
#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder's image:
# Python, then a virtual environment with hwgrade (numpy, pytest, hypothesis...).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip
python3 -m venv {VENV}
{VENV}/bin/python -m pip install --quiet --upgrade pip
{VENV}/bin/python -m pip install --quiet {shlex.quote(release.INSTALL_SPEC)}
{VENV}/bin/hwgrade --version
"""


def run_script(lang: str) -> str:
    """run_autograder, grading in `lang` (grader.i18n.LANGS) unless $HWGRADE_LANG says
    otherwise: Gradescope's machine has no locale of the course's, so it is written here."""
    return f"""\
#!/usr/bin/env bash
# Gradescope runs this for every submission: grade it with every check, hidden ones
# included, into results/results.json. Paths can be moved (the tests run this on a
# tree shaped like Gradescope's):
#   HWGRADE_AUTOGRADER  the root                 (default /autograder)
#   HWGRADE_SOURCE      the unpacked bundle      (default $HWGRADE_AUTOGRADER/source)
#   HWGRADE_SUBMISSION  the student's files      (default $HWGRADE_AUTOGRADER/submission)
#   HWGRADE_RESULTS     where results.json goes  (default $HWGRADE_AUTOGRADER/results)
#   HWGRADE_CMD         the hwgrade command      (default the one setup.sh installed)
#   HWGRADE_LANG        the feedback's language  (default {lang}, chosen when the bundle
#                       was built: en or zh-TW)
set -uo pipefail
root="${{HWGRADE_AUTOGRADER:-/autograder}}"
source_dir="${{HWGRADE_SOURCE:-$root/source}}"
submission="${{HWGRADE_SUBMISSION:-$root/submission}}"
results="${{HWGRADE_RESULTS:-$root/results}}"
read -r -a hwgrade <<< "${{HWGRADE_CMD:-{VENV}/bin/hwgrade}}"

mkdir -p "$results"
source_dir="$(cd "$source_dir" && pwd)" || exit 3
results="$(cd "$results" && pwd)" || exit 3
rm -f "$results/results.json"

# Grade from next to the submission, so that messages name the student's files the
# short way ("submission/activations.py, line 3"), not /autograder/submission/...
target="$(basename "$submission")"
cd "$submission/.." || exit 3
# An uploaded .zip stays a .zip: grade it when it is all there is.
shopt -s nullglob nocaseglob
code=("$target"/*.py "$target"/*.ipynb)
zips=("$target"/*.zip)
shopt -u nullglob nocaseglob
if [ "${{#code[@]}}" -eq 0 ] && [ "${{#zips[@]}}" -eq 1 ]; then target="${{zips[0]}}"; fi

"${{hwgrade[@]}}" check "$source_dir/{FOLDER}" "$target" --format gradescope \\
    --lang "${{HWGRADE_LANG:-{lang}}}" --output "$results/results.json"
status=$?
# 0 all passed, 1 some did not, 2 the submission could not be graded (results.json
# says why). Anything else means the grader or the assignment is broken: no
# results.json then, so Gradescope shows a failed run rather than a made-up score.
if [ "$status" -le 2 ] && [ -f "$results/results.json" ]; then exit 0; fi
echo "hwgrade check failed (exit $status): a problem in the autograder, not in the" \\
     "submission" >&2
exit "$(( status == 0 ? 3 : status ))"
"""


RUN = run_script(DEFAULT_LANG)  # the English one


def bundle_files(assignment: Assignment,
                 lang: str = DEFAULT_LANG) -> dict[str, tuple[bytes, int]]:
    """Every file of the bundle: its name in the zip -> (bytes, Unix mode)."""
    if lang not in LANGS:
        raise BundleError(f"unknown language {lang!r}; choose from {', '.join(LANGS)}")
    if assignment.hidden_points and not assignment.has_hidden_checks:
        raise BundleError(
            f"{assignment.root} has no hidden checks, but assignment.toml gives them "
            f"{assignment.hidden_points:g} points: build the bundle from the course's copy "
            "of the assignment (the installed hwgrade never has hidden/)")
    files = {"setup.sh": (setup_script().encode(), 0o755),
             "run_autograder": (run_script(lang).encode(), 0o755)}
    root = assignment.root
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if _SKIP.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        if path.is_symlink():  # never pack what a link points to outside the assignment
            raise BundleError(f"{path} is a symbolic link; the bundle takes only plain files")
        if path.is_file():
            files[f"{FOLDER}/{relative.as_posix()}"] = (path.read_bytes(), 0o644)
    return files


def write_bundle(assignment: Assignment, dest: Path, *, lang: str = DEFAULT_LANG) -> list[str]:
    """Write the bundle to dest (a .zip), grading in lang; return the names in it."""
    dest = Path(dest)
    root = assignment.root.resolve()
    target = dest.resolve()
    if target == root or root in target.parents:
        raise BundleError(f"{dest} is inside the assignment's folder; write it elsewhere")
    if dest.is_dir():
        raise BundleError(f"{dest} is a folder; give the .zip file to write")
    files = bundle_files(assignment, lang)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (data, mode) in files.items():
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = (0o100000 | mode) << 16  # a regular file with this mode
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    write_atomic_bytes(dest, buffer.getvalue())
    return list(files)
