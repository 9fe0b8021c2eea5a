"""The `hwgrade` command line: parses options and hands off; no logic lives here."""

from __future__ import annotations

import os
import pathlib
import signal
import sys
import threading

import click

from grader import __version__
from grader.playground.config import ACTIVATIONS
from grader.playground.datasets import DATASETS
from grader.playground.features import ALL_FEATURES, canonical_feature


class SweepList(click.ParamType):
    """A sweep: one value or several separated by `sep`, each checked by `item`."""

    def __init__(self, item: click.ParamType, sep: str = ",") -> None:
        self.item, self.sep = item, sep
        self.name = f"{item.name} list"

    def get_metavar(self, param, ctx=None):  # click >= 8.2 passes ctx
        inner = self.item.get_metavar(param, ctx) if ctx is not None else None
        return f"{inner or self.item.name.upper()}[{self.sep}...]"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        parts = [p.strip() for p in str(value).split(self.sep)]
        if any(p == "" for p in parts):
            self.fail(f"{value!r} has an empty item; separate values with {self.sep!r}", param, ctx)
        return tuple(self.item.convert(p, param, ctx) for p in parts)


class HiddenLayers(click.ParamType):
    """Hidden layer sizes, e.g. `8` or `4,2`; `0` means no hidden layer."""

    name = "layers"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        text = str(value).strip()
        if text in ("0", "none"):
            return ()
        try:
            sizes = tuple(int(p) for p in text.split(","))
        except ValueError:
            sizes = ()
        if not sizes or any(s < 1 or s > 64 for s in sizes):
            self.fail(f"{value!r} is not a list of layer sizes: use positive integers up to 64 "
                      "separated by commas, e.g. 8 or 4,2 (0 for no hidden layer)", param, ctx)
        return sizes


class Features(click.ParamType):
    """A set of input features: `all` or names separated by commas."""

    name = "features"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        text = str(value).strip().lower()
        if text == "all":
            return ALL_FEATURES
        chosen = []
        for part in text.split(","):
            try:
                chosen.append(canonical_feature(part))
            except KeyError:
                self.fail(f"{part.strip()!r} is not a feature; choose 'all' or from "
                          f"{', '.join(ALL_FEATURES)}", param, ctx)
        return tuple(f for f in ALL_FEATURES if f in chosen)


class Regularization(click.ParamType):
    """none, L1 or L2, in any letter case; none becomes None."""

    name = "regularization"

    def convert(self, value, param, ctx):
        if value is None or value in ("L1", "L2"):
            return value
        text = str(value).strip().upper()
        if text not in ("NONE", "L1", "L2"):
            self.fail(f"{value!r} is not one of 'none', 'L1', 'L2'.", param, ctx)
        return None if text == "NONE" else text


POSITIVE = click.FloatRange(min=0, min_open=True)


def lang_option(command):
    """--lang for the commands whose output students read; unset means the locale's."""
    from grader.i18n import LANGS

    return click.option(
        "--lang", type=click.Choice(LANGS), default=None,
        help="Language of the student-facing texts (titles, messages, hints, report).  "
             "[default: from the locale: LC_ALL, LC_MESSAGES, LANG; zh* is zh-TW, else en]",
    )(command)


def _lang(value: str | None) -> str:
    from grader.i18n import lang_from_env

    return value or lang_from_env()


class _Stopping:
    """Ctrl-C and SIGTERM (a scheduler, a cancelled CI job) raise KeyboardInterrupt, so
    that a command stops with its workers closed and its outputs written. `event` is
    set too: Python drops an exception raised while it runs a weakref callback or a
    __del__ ("Exception ignored in ..."), and a run that checks the event still stops.
    `exit_code` is the shell's 128 + signal number of the first signal."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signals: list[int] = []

    def __enter__(self) -> _Stopping:
        # A signal ignored on purpose stays ignored (`nohup`, a shell's background job)
        self._previous = {sig: signal.signal(sig, self._stop)
                          for sig in (signal.SIGINT, signal.SIGTERM)
                          if signal.getsignal(sig) is not signal.SIG_IGN}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _stop(self, signum, frame):
        self.signals.append(signum)
        self.event.set()
        raise KeyboardInterrupt

    @property
    def exit_code(self) -> int:
        return 128 + (self.signals[0] if self.signals else signal.SIGINT)


def _usage(error: Exception, lang: str) -> click.UsageError:
    """A usage error whose text may be a catalog Message: shown in `lang`."""
    from grader.i18n import localize

    text = error.args[0] if len(error.args) == 1 else str(error)
    return click.UsageError(str(localize(text, lang)))


class _Commands(click.Group):
    """A Ctrl-C before a command installs its own handling (while hwgrade starts) ends
    with the shell's 130 and a word, not click's "Aborted!" and exit 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            from grader.i18n import label

            click.echo(label("cli.stopped", _lang(None)), err=True)
            ctx.exit(130)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hwgrade")
def main() -> None:
    """hwgrade: grade and explore TensorFlow Playground homework."""


@main.command()
@click.option("--exercise", type=int, metavar="N",
              help="Start from exercise N of the assignment's experiments (its manifest's "
                   "[experiments.exercise.N]: setup and sweep); other options override it.")
@click.option("--dataset", type=SweepList(click.Choice(list(DATASETS))),
              help="Dataset(s).  [Playground default: circle]")
@click.option("--noise", type=SweepList(click.FloatRange(0, 50)),
              help="Noise, 0-50 as in the UI.  [default: 0]")
@click.option("--features", type=SweepList(Features(), sep="/"),
              help="Input features: 'all' or e.g. x1,x2,x1^2,x2^2,x1x2,sin(x1),sin(x2); "
                   "sweep sets with '/'.  [default: x1,x2]")
@click.option("--hidden", type=SweepList(HiddenLayers(), sep="/"),
              help="Hidden layer sizes, e.g. 8 or 4,2; sweep shapes with '/': 8/4,2.  "
                   "[default: 4,2]")
@click.option("--activation", type=SweepList(click.Choice(ACTIVATIONS)),
              help="Hidden activation(s).  [default: tanh]")
@click.option("--learning-rate", type=SweepList(POSITIVE),
              help="Learning rate(s).  [default: 0.03]")
@click.option("--batch-size", type=SweepList(click.IntRange(1, 250)),
              help="Batch size(s), 1-250.  [default: 10]")
@click.option("--regularization", type=SweepList(Regularization()),
              help="none, L1 or L2.  [default: none]")
@click.option("--regularization-rate", type=SweepList(click.FloatRange(min=0)),
              help="Regularization rate(s).  [default: 0]")
@click.option("--train-ratio", type=SweepList(click.IntRange(10, 90)),
              help="Percent of the points used for training.  [default: 50]")
@click.option("--epochs", type=SweepList(click.IntRange(min=0, max=100_000)),
              help="Epochs (Playground's iterations) per run.  [default: the exercise's, "
                   "else 500]")
@click.option("--seeds", type=click.IntRange(1, 10_000), default=None,
              help="Seeded runs per config (NumPy seeds FIRST-SEED...).  [default: 8]")
@click.option("--first-seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="The first NumPy seed.")
@click.option("--playground-seed", type=SweepList(click.STRING),
              help="Playground seed string(s), e.g. 0.12345: the browser's data and "
                   "initial weights for that seed.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None,
              help="Processes to train in, each training its share of the runs vectorized.  "
                   "[default: the CPU count for long sweeps, else 1]")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, writable=True),
              help="Also write every run's loss curve to this CSV file.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False, path_type=pathlib.Path),
              help="Also draw every seed's test-loss curve, one panel per setting, to this "
                   ".png, .svg or .html file (with --use-submission: beside the reference's).")
@click.option("--use-submission", "submission_path",
              type=click.Path(exists=True, path_type=pathlib.Path),
              help="Train with your own functions, those the assignment's experiments call "
                   "(a folder, notebook or zip), run safely in the grading worker.")
@click.option("--assignment", "assignment_name", default="day65", show_default=True,
              help="The assignment whose exercises --exercise names and whose functions "
                   "--use-submission takes.")
@lang_option
def play(exercise, seeds, first_seed, playground_seed, fmt, jobs, csv_path, plot_path,
         submission_path, assignment_name, lang, **options) -> None:
    """Train Playground networks from the command line; comma lists sweep.

    \b
    Examples:
      hwgrade play --exercise 7
      hwgrade play --exercise 6 --plot exercise6.png
      hwgrade play --dataset spiral --features all --hidden 8 \\
                   --activation tanh,relu,sigmoid,linear --learning-rate 1
    """
    from grader import play as playmod
    from grader.i18n import label

    lang = _lang(lang)
    if seeds is not None and playground_seed is not None:
        raise click.UsageError(label("play.seeds_or_playground_seed", lang))
    if plot_path is not None:  # before training, not after
        _check_plot_path(plot_path, lang)
    seed_list = list(playground_seed) if playground_seed else \
        list(range(first_seed, first_seed + (seeds or 8)))
    preset = None if exercise is None else _exercise_preset(assignment_name, exercise, lang)
    try:
        configs = playmod.expand_sweep(options, preset)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    total = len(configs) * len(seed_list) * max(c.epochs for c in configs)
    if jobs is None:  # starting processes costs ~0.5 s: only worth it for long sweeps
        jobs = (os.cpu_count() or 1) if total >= 10_000 else 1
    reference = None
    if submission_path is None or plot_path is not None:  # the plot draws the reference too
        with click.progressbar(length=total, label=label("play.training", lang),
                               file=sys.stderr,
                               hidden=total < 20_000 or not sys.stderr.isatty()) as bar:
            reference = playmod.run_sweep(configs, seed_list, progress=bar.update, jobs=jobs)
    sweep = reference
    if submission_path is not None:
        sweep = _play_with_submission(playmod, configs, seed_list, submission_path,
                                      assignment_name, lang)
    if csv_path:
        playmod.write_csv(sweep, csv_path)
    if fmt == "json":
        click.echo(playmod.to_json(sweep))
    else:
        click.echo(playmod.render_table(sweep, lang))
    if plot_path is not None:
        _write_plot(plot_path, sweep, None if submission_path is None else reference,
                    exercise, lang)


def _check_plot_path(path: pathlib.Path, lang: str) -> None:
    from grader.i18n import label
    from grader.play_plot import FORMATS

    if path.suffix.lower() not in FORMATS:
        raise click.UsageError(label("plot.bad_suffix", lang, path=path,
                                     suffixes=", ".join(FORMATS)))
    _check_output_folder(path, lang)


def _check_output_folder(path: pathlib.Path, lang: str) -> None:
    """Before the work, not after it: a file to write needs an existing folder."""
    from grader.i18n import label

    if not path.absolute().parent.is_dir():
        raise click.UsageError(label("cli.no_output_folder", lang, path=path))


def _exercise_preset(assignment_name: str, exercise: int, lang: str) -> dict:
    from grader import play as playmod
    from grader.assignment import AssignmentError, find_assignment
    from grader.i18n import label

    try:
        found = find_assignment(assignment_name)
    except AssignmentError as error:
        raise _usage(error, lang) from None
    presets = playmod.exercise_presets(found.settings.get("experiments", {}))
    if exercise not in presets:
        raise click.UsageError(label(
            "play.no_exercise", lang, exercise=exercise, assignment=found.name,
            exercises=", ".join(map(str, sorted(presets))) or label("play.none", lang)))
    return presets[exercise]


def _write_plot(path, sweep, reference, exercise, lang) -> None:
    from grader import play_plot
    from grader.i18n import label
    from grader.report.common import write_atomic_bytes

    if play_plot.words_language(lang) != lang:
        click.echo(label("plot.no_font", lang), err=True)
    data = play_plot.render(play_plot.trainings(sweep, reference), path.suffix.lower(),
                            lang=lang, exercise=exercise)
    try:
        write_atomic_bytes(path, data)
    except OSError as error:
        click.echo(label("cli.cannot_write", lang, path=path,
                         reason=error.strerror or error), err=True)
        sys.exit(2)
    click.echo(label("plot.wrote", lang, path=path), err=True)


def _play_with_submission(playmod, configs, seeds, path, assignment_name, lang):
    from grader.assignment import AssignmentError, find_assignment
    from grader.i18n import label
    from grader.playground.engine import ComponentError
    from grader.submission import SubmissionError
    from grader.worker.errors import StudentCodeError

    try:
        assignment = find_assignment(assignment_name)
    except AssignmentError as error:
        raise _usage(error, lang) from None
    click.echo(label("play.using_submission", lang, path=path), err=True)
    try:
        return playmod.run_sweep_with_submission(configs, seeds, path, assignment)
    except SubmissionError as error:
        raise click.ClickException(label("play.not_loaded", lang, error=error.message)) \
            from None
    except StudentCodeError as error:
        raise click.ClickException(label("play.stopped", lang, error=error.message)) from None
    except ComponentError as error:  # the engine's own words, English only
        raise click.ClickException(label("play.stopped", lang, error=str(error))) from None


@main.command(name="list")
def list_command() -> None:
    """List the assignments hwgrade knows (bundled, and in $HWGRADE_ASSIGNMENTS)."""
    from grader.assignment import AssignmentError, list_assignments

    try:
        found = list_assignments()
    except AssignmentError as error:
        raise click.ClickException(str(error)) from None
    if not found:
        click.echo("no assignments found")
    for a in found:
        hidden = "hidden checks present" if a.has_hidden_checks else "public checks only"
        click.echo(f"{a.name:<10} {a.title}  [{a.total_points:g} points; {hidden}]")


@main.command()
@click.argument("assignment")
@click.option("--seeds", type=click.IntRange(1, 10_000), default=64, show_default=True,
              help="Seeds per configuration.")
@click.option("--epochs", type=click.IntRange(1, 100_000), default=None,
              help="Epochs per run.  [default: the manifest's]")
@click.option("--jobs", type=click.IntRange(1, 64), default=os.cpu_count() or 1,
              show_default=True, help="Processes to train in.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=pathlib.Path),
              help="Where to write.  [default: reference.json beside the manifest]")
def calibrate(assignment, seeds, epochs, jobs, output) -> None:
    """Measure the reference distribution of ASSIGNMENT's experiments with the
    course's reference solution (solutions/NAME/) and write reference.json."""
    from grader.assignment import AssignmentError, find_assignment
    from grader.experiments import calibrate as cal

    try:
        found = find_assignment(assignment)
        if "experiments" not in found.settings:
            raise AssignmentError(f"{found.name} has no [experiments] in its manifest")
        cal.solution_dir(found)
    except (AssignmentError, FileNotFoundError) as error:
        raise click.UsageError(str(error)) from None
    grid_size = len(cal.experiment_grid(found.settings["experiments"]))
    with click.progressbar(length=grid_size, label=f"calibrating {found.name}",
                           file=sys.stderr, hidden=not sys.stderr.isatty()) as bar:
        data = cal.calibrate(found, seeds=seeds, epochs=epochs, jobs=jobs, progress=bar.update)
    path = output or found.root / cal.REFERENCE_FILE
    cal.write_reference(data, path)
    click.echo(f"wrote {path}: {grid_size} configurations x {seeds} seeds x "
               f"{data['epochs']} epochs")
    click.echo(cal.describe_judging(data, found.settings["experiments"]))


@main.command(name="release")
@click.argument("assignment")
@click.argument("dest", type=click.Path(file_okay=False, path_type=pathlib.Path))
@click.option("--force", is_flag=True,
              help="Write into DEST even if it is not empty (same-named files are replaced; "
                   "nothing is deleted).")
@click.option("--install-spec", metavar="SPEC", default=None,
              help="What students install: the workflow's and the README's pip install and "
                   "the notebook's install cell, e.g. 'hwgrade @ git+https://<course>/hwgrade"
                   "@v1'.  [default: INSTALL_SPEC in grader/release.py]")
def release_command(assignment, dest, force, install_spec) -> None:
    """Write ASSIGNMENT's student repository into DEST (a new or empty folder).

    Starter modules and notebook, README (instructions), .gitignore and a GitHub
    Actions workflow; never hidden checks or solutions.
    """
    from grader.assignment import AssignmentError, find_assignment
    from grader.release import DestinationError, InstallSpecError, ReleaseError, release

    try:
        found = find_assignment(assignment)
        written = release(found, dest, force=force, install_spec=install_spec)
    except (AssignmentError, DestinationError, InstallSpecError) as error:
        raise click.UsageError(str(error)) from None
    except ReleaseError as error:
        click.echo(f"hwgrade could not release {assignment} (a problem in the assignment):\n"
                   f"{error}", err=True)
        sys.exit(3)
    click.echo(f"released {found.name} to {dest}:")
    for path in written:
        click.echo(f"  {path.relative_to(dest).as_posix()}")


@main.command(name="gradescope")
@click.argument("assignment")
@click.option("-o", "--output", "dest", required=True,
              type=click.Path(dir_okay=False, path_type=pathlib.Path),
              help="The bundle to write, e.g. autograder.zip.")
@lang_option
def gradescope_command(assignment, dest, lang) -> None:
    """Write ASSIGNMENT's Gradescope autograder (a .zip, hidden checks included).

    Upload it under Configure Autograder; each submission is then graded with
    `hwgrade check --format gradescope` into results.json.
    """
    from grader.assignment import AssignmentError, find_assignment
    from grader.gradescope_bundle import BundleError, write_bundle

    try:
        found = find_assignment(assignment)
        names = write_bundle(found, dest, lang=_lang(lang))
    except (AssignmentError, BundleError) as error:
        raise _usage(error, _lang(lang)) from None
    except OSError as error:
        raise click.UsageError(f"cannot write {dest}: {error.strerror or error}") from None
    hidden = sum(n.startswith("assignment/hidden/") for n in names)
    click.echo(f"wrote {dest}: setup.sh, run_autograder and {found.name} "
               f"({len(names) - 2} files, {hidden} of them hidden checks)")


@main.command()
@click.argument("assignment")
@click.argument("path", required=False, default=".",
                type=click.Path(exists=True, path_type=pathlib.Path))
@click.option("--format", "fmt", default="text", show_default=True,
              type=click.Choice(["text", "json", "junit", "github", "gradescope", "html"]),
              help="Report format: text, json (the result model), junit (JUnit XML), github "
                   "(GitHub Actions annotations and job summary), gradescope (results.json), "
                   "html (a self-contained page with the experiments' plots).")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False, path_type=pathlib.Path),
              help="Write the report to this file (atomically, UTF-8); stdout then gets a "
                   "one-line summary.")
@click.option("--quick", is_flag=True,
              help="Leave out the long checks (Day 65: the 500-epoch trainings); the "
                   "report says what that left out.")
@click.option("--only", multiple=True, metavar="NAME",
              help="Run only the checks of NAME: a check, a function (relu_derivative), a "
                   "module (activations) or a shell pattern ('relu*'); repeat for several.")
@click.option("--no-hidden", is_flag=True,
              help="Leave out hidden checks even where they are present.")
@lang_option
def check(assignment, path, fmt, output, quick, only, no_hidden, lang) -> None:
    """Grade the submission at PATH (a folder, .ipynb or .zip; default: here).

    Exit code: 0 all checks passed, 1 some did not, 2 usage or submission error,
    3 the grader could not grade, 130 interrupted (143: SIGTERM).
    """
    from grader.assignment import AssignmentError, find_assignment
    from grader.grading import GraderError, SelectionError, grade_submission
    from grader.i18n import label
    from grader.report import github, render, summary_line, write_atomic

    lang = _lang(lang)
    try:
        found = find_assignment(assignment)
    except AssignmentError as error:
        raise _usage(error, lang) from None
    if output is not None:
        _check_output_folder(output, lang)
    if path.suffix.lower() == ".ipynb" and fmt == "text" and output is None:
        # A student's usual slip: checking the file while the fixes are only in the kernel
        click.echo(label("cli.saved_notebook", lang, name=path.name,
                         assignment=found.name), err=True)
    stopping = _Stopping()
    try:
        with stopping:
            result = grade_submission(found, path, only=only, quick=quick,
                                      include_hidden=not no_hidden, lang=lang,
                                      stop=stopping.event)
        if stopping.signals:  # its KeyboardInterrupt was dropped where Python drops them
            raise KeyboardInterrupt
    except SelectionError as error:
        raise _usage(error, lang) from None
    except GraderError as error:
        click.echo(f"{label('cli.grader_problem', lang)}\n{error}", err=True)
        sys.exit(3)
    except KeyboardInterrupt:  # the workers are closed by now; say so, not "Aborted!"
        click.echo(label("cli.interrupted", lang), err=True)
        sys.exit(stopping.exit_code)
    text = render(result, fmt, color=output is None and sys.stdout.isatty())
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        try:
            write_atomic(output, text if text.endswith("\n") else text + "\n")
        except OSError as error:
            click.echo(label("cli.cannot_write", lang, path=output,
                             reason=error.strerror or error), err=True)
            sys.exit(2)
        click.echo(f"{summary_line(result)} -> {output}")
    if fmt == "github":
        github.append_step_summary(result)
    sys.exit(2 if result.error else 0 if result.all_passed else 1)


class ShardOption(click.ParamType):
    """--shard I/N."""

    name = "I/N"

    def convert(self, value, param, ctx):
        from grader.batch.shards import Shard

        if not isinstance(value, str):
            return value
        try:
            return Shard.parse(value)
        except ValueError as error:
            self.fail(str(error), param, ctx)


@main.command()
@click.argument("assignment")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False,
                                               path_type=pathlib.Path))
@click.option("-o", "--output", "outdir", required=True,
              type=click.Path(file_okay=False, path_type=pathlib.Path),
              help="Output folder: gradebook.csv, results.jsonl, feedback/, summary.txt and "
                   "the journal a later run resumes from.")
@click.option("--jobs", type=click.IntRange(1, 512), default=None,
              help="Submissions graded at once, each in its own grader process.  "
                   "[default: the CPUs available]")
@click.option("--force", is_flag=True,
              help="Regrade everyone, even submissions whose journaled result is current.")
@click.option("--shard", type=ShardOption(), default=None,
              help="Grade only shard I of N (a stable share by student id); combine the "
                   "shards' outputs with `hwgrade merge`.")
@click.option("--ids", "ids_file", type=click.Path(exists=True, dir_okay=False,
                                                   path_type=pathlib.Path),
              help="CSV with a header row: the submission's folder/file name or LMS id, "
                   "then the student id to use.")
@click.option("-q", "--quiet", is_flag=True,
              help="No progress and no summary on the terminal (outputs are still written).")
@lang_option
def grade(assignment, submissions, outdir, jobs, force, shard, ids_file, quiet, lang) -> None:
    """Grade every submission in SUBMISSIONS into OUTDIR (resumable; see the README).

    SUBMISSIONS holds a folder or a .zip/.ipynb/.py per student, or a Moodle or
    Canvas bulk download. Exit code: 0 done, 3 some submissions hit a grader
    error, 130 interrupted (run the same command again to continue).
    """
    from grader.assignment import AssignmentError, find_assignment
    from grader.batch.idmap import MappingError, read_mapping
    from grader.batch.journal import JournalError
    from grader.batch.layouts import LayoutError
    from grader.batch.progress import Progress
    from grader.batch.run import grade_batch
    from grader.batch.runner import default_jobs

    try:
        found = find_assignment(assignment)
        mapping = read_mapping(ids_file) if ids_file else None
    except (AssignmentError, MappingError) as error:
        raise _usage(error, _lang(lang)) from None
    jobs = jobs or default_jobs()
    progress = Progress(label=f"hwgrade grade {found.name}" + (f" (shard {shard})" if shard
                                                                else ""),
                        quiet=quiet, jobs=jobs)

    stopping = _Stopping()
    try:
        with stopping:
            report = grade_batch(found, submissions, outdir, jobs=jobs, force=force,
                                 shard=shard, mapping=mapping, events=progress,
                                 lang=_lang(lang), stop=stopping.event)
    except (LayoutError, JournalError) as error:
        raise click.UsageError(str(error)) from None
    finally:
        progress.close()
    if not quiet:
        click.echo(report.summary, nl=False)
        click.echo(f"\nThis run: {report.graded_now} graded, {report.failed_now} grader "
                   f"failure(s), {report.unchanged} unchanged. Outputs in {outdir}")
    if report.interrupted:
        click.echo(f"interrupted: {report.graded_now + report.failed_now} submission(s) "
                   "graded in this run are saved; run the same command again to continue.",
                   err=True)
        sys.exit(130)
    sys.exit(3 if report.grader_errors else 0)


@main.command()
@click.argument("sources", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=pathlib.Path))
@click.option("-o", "--output", "outdir", required=True,
              type=click.Path(file_okay=False, path_type=pathlib.Path),
              help="Where the combined outputs go.")
@click.option("-q", "--quiet", is_flag=True, help="Do not print the summary.")
def merge(sources, outdir, quiet) -> None:
    """Combine the outputs of `hwgrade grade --shard I/N` runs (SOURCES) into OUTDIR."""
    from grader.batch.merge import MergeError, merge_outdirs

    try:
        _, summary = merge_outdirs(list(sources), outdir)
    except MergeError as error:
        raise click.UsageError(str(error)) from None
    if not quiet:
        click.echo(summary, nl=False)


def run() -> None:
    """The console script: click's own errors keep their exit codes; anything else
    is hwgrade's bug, said as such (exit 3), with the traceback only on request."""
    try:
        main()
    except Exception as error:  # noqa: BLE001 - the last line of defence
        if os.environ.get("HWGRADE_DEBUG"):
            raise
        click.echo(f"hwgrade failed with an internal error ({type(error).__name__}: {error}). "
                   "This is a bug in hwgrade, not in your submission; set HWGRADE_DEBUG=1 "
                   "to see the traceback and please report it.", err=True)
        sys.exit(3)


if __name__ == "__main__":  # pragma: no cover
    run()
