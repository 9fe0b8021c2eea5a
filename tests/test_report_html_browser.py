"""The HTML report in a real browser: Debian's headless Chromium opens the page of the
synthetic Day 65 result (tests/html_result.py) from a file, with no network, and
takes a screenshot. The screenshot must show the heat maps (Playground's blue and
orange) with the learning curves beside them, and the browser's console must stay
silent: a blocked load (the page's Content-Security-Policy) or any error would be
logged there.

Chromium comes from the system's packages: .ci/run installs it (apt-get install
chromium) before the tests. Without it the test is skipped, except under CI
(CI=true), where a missing browser is a failure: CI must not pass by skipping.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from html_page import BLUE, ORANGE, near
from html_result import day65_result

from grader.report import html

WIDTH, HEIGHT = 1200, 4000
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars",
         f"--window-size={WIDTH},{HEIGHT}",
         # The page's console messages (errors, CSP violations) go to stderr as
         # "...:INFO:CONSOLE:<line>] "<message>", source: ..." lines.
         "--enable-logging=stderr", "--v=0"]


def locate_chromium(environ, candidates=("chromium", "/usr/bin/chromium")) -> str:
    """The browser's path; else a skip, or under CI (CI=true) a failure."""
    for name in candidates:
        if found := shutil.which(name):
            return found
    message = ("Debian's chromium is not installed (.ci/run installs it: apt-get install "
               "--no-install-recommends chromium)")
    if environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{message}; under CI the browser test must run, not be skipped")
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium() -> str:
    return locate_chromium(os.environ)


@pytest.mark.parametrize("ci", ["true", "1", ""])
def test_a_missing_browser_is_skipped_but_fails_under_ci(ci):
    expected = pytest.skip.Exception if not ci else pytest.fail.Exception
    with pytest.raises(expected, match="chromium is not installed"):
        locate_chromium({"CI": ci}, candidates=("/nonexistent/chromium",))


def screenshot(chromium: str, page: Path, tmp: Path) -> tuple[np.ndarray, list[str]]:
    """(the screenshot as RGB in [0, 1], the console lines) of page opened from a file."""
    shot = tmp / "screenshot.png"
    profile = tmp / "profile"
    profile.mkdir()
    # A home of its own: Chromium writes caches and crash reports under HOME and XDG dirs.
    env = {**os.environ, "HOME": str(tmp), "XDG_CONFIG_HOME": str(tmp / "config"),
           "XDG_CACHE_HOME": str(tmp / "cache")}
    command = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
               page.as_uri()]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, errors="replace", env=env, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=120)
    finally:  # its renderer, GPU and zygote processes are in the session it leads
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    assert shot.exists(), f"chromium exited {proc.returncode} without a screenshot:\n{err}"
    console = [line for line in err.splitlines() if ":CONSOLE" in line]
    return matplotlib.image.imread(shot)[..., :3], console


def heat_map_spans(image: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges where a heat map is: many Playground-blue/orange pixels in every row."""
    hot = (near(image, BLUE) | near(image, ORANGE)).sum(axis=1) > 100
    spans, start = [], None
    for y, row in enumerate([*hot, False]):
        if row and start is None:
            start = y
        elif not row and start is not None:
            if y - start > 200:  # a table's colour swatch is not a heat map
                spans.append((start, y))
            start = None
    return spans


@pytest.mark.slow
def test_chromium_shows_the_plots_and_logs_no_console_error(chromium, tmp_path):
    page = tmp_path / "feedback.html"
    page.write_text(html.render(day65_result()), encoding="utf-8")
    image, console = screenshot(chromium, page, tmp_path)
    assert console == [], "\n".join(console)
    assert image.shape[:2] == (HEIGHT, WIDTH)
    spans = heat_map_spans(image)
    assert len(spans) >= 3, spans  # the window holds at least exercises 5-7
    for top, bottom in spans:
        band = image[top:bottom]
        hot = (near(band, BLUE) | near(band, ORANGE)).sum(axis=0)
        columns = np.flatnonzero(hot > 0.3 * len(band))  # not a stray pixel of the curves
        left, right = columns.min(), columns.max()
        heat = band[:, left:right + 1]
        assert right - left > 300  # drawn at its size, not a sliver
        assert near(heat, BLUE).mean() > 0.15 and near(heat, ORANGE).mean() > 0.15
        # the learning curves sit left of the heat map: coloured lines on white
        curves = band[:, : max(left - 20, 0)]
        coloured = (curves.max(axis=-1) - curves.min(axis=-1)) > 0.3
        not_white = (curves < 0.9).any(axis=-1)
        assert coloured.sum() > 3000 and not_white.mean() > 0.03, (coloured.sum(),
                                                                    not_white.mean())


@pytest.mark.slow
def test_the_console_check_sees_a_blocked_load(chromium, tmp_path):
    """The check above can fail: a page that tries to load from the network is blocked by
    its Content-Security-Policy, and Chromium says so on the console."""
    text = html.render(day65_result()).replace(
        "</body>", '<img src="http://127.0.0.1:9/tracker.png" alt=""></body>')
    page = tmp_path / "tampered.html"
    page.write_text(text, encoding="utf-8")
    _, console = screenshot(chromium, page, tmp_path)
    assert any("Content Security Policy" in line and "127.0.0.1:9" in line
               for line in console), console
