"""The suite's own fixtures (the grader runs checks with --noconftest; this file is only
for hwgrade's tests)."""

from __future__ import annotations

import pytest

from grader.i18n import LOCALE_VARIABLES


@pytest.fixture(autouse=True)
def english_unless_asked(monkeypatch):
    """hwgrade's default language follows the locale; the tests expect English unless they
    choose a language, also on a developer's machine whose locale is Chinese."""
    import os

    for name in LOCALE_VARIABLES:
        if os.environ.get(name, "").lower().startswith("zh"):
            monkeypatch.setenv(name, "C.UTF-8")
