"""Every student-facing string of submission loading, keyed by a stable id.

Messages are `str.format` templates, the [submission] tables of
grader/locale/en.toml and zh-TW.toml. Code never builds student-facing text
from its own literals: it calls `render(message_id, **fields)`, which gives a
grader.i18n Message (a str in English that grading renders again in the
student's language); pieces are combined as fields or with `joined`, never
with `+`, so that every piece is translated.
"""

from __future__ import annotations

from grader.i18n import DEFAULT_LANG, GRADER, Message, joined

MESSAGES: dict[str, str] = {  # the English templates, by id (from grader/locale/en.toml)
    key.removeprefix("submission."): text
    for key, text in GRADER.catalog(DEFAULT_LANG).items() if key.startswith("submission.")
}


def render(message_id: str, **fields: object) -> Message:
    """The student-facing text of `message_id` with `fields` filled in."""
    return GRADER(f"submission.{message_id}", **fields)


def render_list(items: list[str], *, limit: int = 15) -> str:
    """A comma-separated list, shortened to `limit` items ("and 3 more")."""
    if not items:
        return render("folder.nothing")
    shown = list(items[:limit])
    if len(items) > limit:
        shown.append(render("folder.more", count=len(items) - limit))
    return joined(shown, ", ")
