"""feedback/ID.html: the student's feedback as a page with plots (grader.report.html),
beside feedback/ID.txt.

Drawing a Day 65 page takes about half a second (eight matplotlib figures), and the
batch rewrites every student's feedback at the end of each run, so a page records
what it was drawn from (a <meta> with a hash of the result and of the renderer) and
is only drawn again when that changes: a resumed run with nothing new redraws
nothing. A page that cannot be drawn (a bug in hwgrade's renderer, not the
student's fault) is replaced by the plain-text feedback in a page, and the run goes
on: the gradebook matters more than the plots.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

from grader.batch.rows import Row

_SOURCE = re.compile(rb'<meta name="hwgrade-source" content="([0-9a-f]{64})">')
_RENDERER = ("html.py", "plots.py", "experiments_view.py", "html_labels.py", "html_style.py")
_LABELS = ("html.en.toml", "html.zh-TW.toml")  # in grader/locale


def html_name(txt_name: str) -> str:
    """feedback_names() gives "ID.txt"; the page is "ID.html"."""
    return txt_name.removesuffix(".txt") + ".html"


def _renderer_key() -> bytes:
    """The renderer's code, its labels and matplotlib's version: a new hwgrade redraws
    pages."""
    from grader import __version__
    from grader.i18n import GRADER
    from grader.report import html

    folder = Path(html.__file__).parent
    digest = hashlib.sha256(__version__.encode())
    for path in [folder / name for name in _RENDERER] + [GRADER.folder / n for n in _LABELS]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    try:
        from importlib.metadata import version
        digest.update(version("matplotlib").encode())
    except Exception:  # noqa: BLE001 - not installed: the page says so when it is drawn
        digest.update(b"no matplotlib")
    return digest.digest()


def source_key(row: Row, text: str, renderer: bytes) -> str:
    """What the page depends on: the result (timings aside) or, without one, the text."""
    data = row.result.to_dict(timings=False) if row.result is not None else {"text": text}
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, allow_nan=False)
    return hashlib.sha256(renderer + body.encode("utf-8", "surrogatepass")).hexdigest()


def _recorded_key(path: Path) -> str | None:
    try:
        with open(path, "rb") as file:
            head = file.read(4096)
    except OSError:
        return None
    found = _SOURCE.search(head)
    return found[1].decode() if found else None


def render_page(row: Row, assignment: str, text: str, key: str | None) -> str:
    from grader.report import html

    if row.result is not None:
        return html.render(row.result, source_key=key)
    return html.render_text(f"hwgrade grade {assignment}", text, source_key=key)


def write_html_feedback(path: Path, row: Row, assignment: str, text: str,
                        write: Callable[[Path, bytes], None]) -> None:
    """Write row's page to path with write (atomic), unless it is already there."""
    key = source_key(row, text, _renderer_key())
    if _recorded_key(path) == key:
        return
    try:
        page = render_page(row, assignment, text, key)
    except Exception as error:  # noqa: BLE001 - see the module's docstring
        from grader.report import html

        note = (f"\n\n(hwgrade could not draw this page's plots: {type(error).__name__}: "
                f"{error}. This is a problem in hwgrade, not in your code.)")
        page = html.render_text(f"hwgrade grade {assignment}", text + note)  # no key: retried
    write(path, page.encode("utf-8", "replace"))
