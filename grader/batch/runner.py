"""Parallel grading: a pool of grader processes (child.py), one submission each at a time.

    with GraderPool(assignment.root, jobs=4, timeout=600) as pool:
        for outcome in pool.grade([Job("alice", "/abs/alice", "alice"), ...]):
            ...                                   # in completion order

Each grader process is a separate interpreter, so a grader that dies (kill -9, a
segfault, out of memory) or hangs past `timeout` costs exactly the submission it
was grading: that outcome is a failure saying what happened, a new process takes
the next submission. Processes are reused for `tasks_per_child` submissions (the
imports and pytest's start are paid once), then replaced. One thread per process
feeds it and waits for its answer; the caller's thread only collects outcomes. Each
process gets one BLAS thread (ONE_THREAD).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_WINDOWS = os.name == "nt"
# Parallelism comes from processes: BLAS threads in each would only compete for the
# same cores (and a thread count that depends on the machine could change the floats).
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Job:
    id: str
    path: str  # what the grader process grades
    display: str  # how the result names it
    lang: str = "en"  # of the student-facing texts (grader.i18n.LANGS)


@dataclass(frozen=True)
class Outcome:
    id: str
    seconds: float
    result: dict[str, Any] | None = None
    failure: str | None = None


def default_jobs() -> int:
    """The CPUs this process may use (Slurm's and taskset's limits included)."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


class GraderPool:
    def __init__(self, assignment_root: Path, *, jobs: int, timeout: float,
                 tasks_per_child: int = 50, private: Sequence[Path] = (),
                 command: Sequence[str] | None = None, workdir: Path | None = None) -> None:
        """private: folders no student's worker may see (the class's submissions, the
        outputs); command: instead of grader.batch.child (tests)."""
        self.jobs, self.timeout, self.tasks_per_child = max(jobs, 1), timeout, tasks_per_child
        self.command = list(command) if command else [
            sys.executable, "-m", "grader.batch.child", str(Path(assignment_root).resolve()),
            *(str(Path(p).resolve()) for p in private)]
        self._workdir = workdir
        self._stopping = threading.Event()
        self._children: set[_Child] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> GraderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def grade(self, jobs: Iterable[Job], *,
              stop: threading.Event | None = None) -> Iterator[Outcome]:
        """Grade every job; outcomes in completion order. Raises KeyboardInterrupt
        once `stop` is set."""
        todo: queue.SimpleQueue = queue.SimpleQueue()
        done: queue.SimpleQueue = queue.SimpleQueue()
        count = 0
        for job in jobs:
            todo.put(job)
            count += 1
        slots = min(self.jobs, count)
        for _ in range(slots):
            todo.put(None)
        for n in range(slots):
            thread = threading.Thread(target=self._serve, args=(todo, done), daemon=True,
                                      name=f"grader-slot-{n}")
            thread.start()
            self._threads.append(thread)
        for _ in range(count):
            while True:
                if stop is not None and stop.is_set():
                    raise KeyboardInterrupt
                try:
                    yield done.get(timeout=0.2)  # short waits: Ctrl-C gets through
                    break
                except queue.Empty:
                    if not any(t.is_alive() for t in self._threads):
                        raise RuntimeError("the grading threads stopped early") from None

    def close(self) -> None:
        """Stop everything: children get SIGTERM (they clean up), then SIGKILL."""
        self._stopping.set()
        with self._lock:
            children = list(self._children)
        for child in children:
            child.terminate()
        deadline = time.monotonic() + 5
        for child in children:
            child.wait_until(deadline)
            child.kill()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def _serve(self, todo: queue.SimpleQueue, done: queue.SimpleQueue) -> None:
        child: _Child | None = None
        try:
            while not self._stopping.is_set():
                job = todo.get()
                if job is None:
                    break
                if child is not None and child.served >= self.tasks_per_child:
                    self._retire(child)
                    child = None
                if child is None:
                    try:
                        child = self._spawn()
                    except OSError as error:  # no processes or memory left: this job fails
                        done.put(Outcome(job.id, 0.0, failure="could not start a grader "
                                         f"process: {error}"))
                        continue
                    if child is None:  # closing
                        break
                outcome = child.grade(job, self.timeout)
                if self._stopping.is_set():
                    break
                if not child.usable:
                    self._retire(child)
                    child = None
                done.put(outcome)
        finally:
            if child is not None:
                self._retire(child)

    def _spawn(self) -> _Child | None:
        with self._lock:  # under the lock: close() sees every child it must stop
            if self._stopping.is_set():
                return None
            child = _Child(self.command, self._workdir)
            self._children.add(child)
        return child

    def _retire(self, child: _Child) -> None:
        child.close()
        with self._lock:
            self._children.discard(child)


class _Child:
    """One grader process and the pipes to it."""

    def __init__(self, command: list[str], workdir: Path | None) -> None:
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
            cwd=workdir, start_new_session=not _WINDOWS, env={**os.environ, **ONE_THREAD})
        self.served = 0
        self.usable = True
        self.timed_out = False

    def grade(self, job: Job, timeout: float) -> Outcome:
        start = time.monotonic()
        self.timed_out = False
        timer = threading.Timer(timeout, self._time_out)
        timer.daemon = True
        timer.start()
        try:
            line = json.dumps({"path": job.path, "display": job.display,
                               "lang": job.lang}) + "\n"
            self.proc.stdin.write(line.encode("utf-8"))
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
        except OSError:
            answer = b""
        finally:
            timer.cancel()
        seconds = time.monotonic() - start
        self.served += 1
        if self.timed_out:
            self.usable = False
            return Outcome(job.id, seconds, failure=f"grading took longer than {timeout:g} s "
                           "and was stopped (the grader hung, not the student's code, which "
                           "has its own time limits)")
        try:
            data = json.loads(answer) if answer else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self.usable = False
            if answer:  # alive but talking nonsense: a bug; stop it
                self.kill()
                return Outcome(job.id, seconds, failure="the grader process sent an "
                               f"unreadable answer: {answer[:200]!r}")
            return Outcome(job.id, seconds, failure=self._death())
        if "result" in data:
            return Outcome(job.id, seconds, result=data["result"])
        self.usable = False
        return Outcome(job.id, seconds, failure=str(data.get("grader_error")))

    def _time_out(self) -> None:
        self.timed_out = True
        self.terminate()
        threading.Timer(5.0, self.kill).start()

    def _death(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.proc.wait()
        if code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with status {code}"
        tail = self._stderr_tail()
        return f"the grader process {how} while grading this submission" + (
            f"; its last output: {tail}" if tail else "")

    def _stderr_tail(self, size: int = 1500) -> str:
        try:
            self.stderr.seek(0, os.SEEK_END)
            end = self.stderr.tell()
            self.stderr.seek(max(end - size, 0))
            return " ".join(self.stderr.read().decode("utf-8", "replace").split())
        except OSError:
            return ""

    def terminate(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.terminate()
            except OSError:
                pass

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass

    def wait_until(self, deadline: float) -> None:
        try:
            self.proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # an idle child ends at EOF
            except OSError:
                pass
            try:
                self.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self.terminate()
                self.wait_until(time.monotonic() + 5)
        self.kill()
        self.proc.wait()
        for stream in (self.proc.stdout, self.stderr):
            stream.close()
        if self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
