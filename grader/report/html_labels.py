"""The HTML report's fixed texts: the `html.*` messages of the grader's catalog
(grader/locale/html.en.toml and html.zh-TW.toml).

The language comes from the result's `lang` ("en" when absent or unknown).
Everything else a student reads there (check titles and messages, exercise
titles, observations, configuration labels) is already in their language.
"""

from __future__ import annotations

from grader.i18n import GRADER

_PREFIX = "html."


def language(lang: object) -> str:
    """The supported language for a result's `lang`: zh-TW for any Chinese tag, else en."""
    if isinstance(lang, str) and lang.lower().replace("_", "-").startswith("zh"):
        return "zh-TW"
    return "en"


def labels(lang: object) -> dict[str, str]:
    """Label name ("score", "col_points", ...) -> template, in the result's language."""
    catalog = GRADER.catalog(language(lang))
    return {key[len(_PREFIX):]: text for key, text in catalog.items()
            if key.startswith(_PREFIX)}
