"""Student-facing text in English and Traditional Chinese (zh-TW): catalogs and rendering.

Languages are LANGS ("en", "zh-TW"). `hwgrade check/grade/gradescope --lang` picks one;
without it, lang_from_env() reads LC_ALL, then LC_MESSAGES, then LANG: a value starting
with "zh" means zh-TW, anything else (or nothing) en.

Catalogs are TOML files in a `locale/` folder, one per language: `en.toml`, `zh-TW.toml`;
a catalog may be split by owner into more files, `PART.en.toml` / `PART.zh-TW.toml`
(e.g. `experiments.en.toml`), merged when loaded (an id in two files is an error).
Tables nest into dotted message ids, and every text is a str.format template whose
{placeholders} are the same in both languages (tests/test_i18n.py fails otherwise):

    # assignments/day65/locale/zh-TW.toml
    [title]                               # check titles, by check name
    sigmoid_values = "sigmoid(z) = 1 / (1 + exp(-z))，逐元素計算"
    [activations]                         # ids activations.sigmoid_returned, ...
    sigmoid_returned = "sigmoid({z}) 回傳了 {got}"
    sigmoid_stable_hint = "z > 709 時 np.exp(z) 會溢位。……"

Three kinds of folders hold catalogs (a Domain each): grader/locale (the grader's own
messages: worker errors, submission loading, reports), an assignment's locale/ (its
public checks), and its hidden/locale/ (hidden checks: never shipped, like them).

Checks: messages_near(__file__) gives the Domain of the nearest locale/ folder at or
above the check module; calling it with an id (and the template's fields) gives a
Message. Anything that takes student-facing text takes a Message: fail(message,
expected=, actual=, hint=), expect_array(hint=), assert_close(what=, hint=), the
hint(...) and title(...) markers. A check's title is the catalog's `title.<check name>`
(the name without test_, without parameters), else the `title` marker, else the
docstring, which stays as the English title for whoever reads the code (a test keeps it
equal to en.toml's). Converting a check:

    from grader.i18n import messages_near
    msg = messages_near(__file__)

    @pytest.mark.points(3)
    @pytest.mark.function("activations.sigmoid")
    @pytest.mark.hint(msg("activations.sigmoid_stable_hint"))
    def test_sigmoid_stable_for_large_inputs(submission):
        '''sigmoid is stable for huge |z| (up to 1e300): 0 and 1 at the ends, never NaN'''
        ...
        fail(msg("activations.sigmoid_returned", z=f"{z[i]:g}", got=got[i]),
             expected=describe(ref[i]), actual=describe(got[i]))

with `title.sigmoid_stable_for_large_inputs`, `activations.sigmoid_stable_hint` and
`activations.sigmoid_returned` in both assignments/day65/locale/en.toml and zh-TW.toml
(assignments/day65/checks/test_activations.py is the worked example). A check made by
a factory takes its title from a marker:
`@pytest.mark.title(msg("title.input_handling", name=name))`. Words inside a sentence
are fields, never `+`: `msg("minibatch.raised", want=joined(names, msg("minibatch.or")))`
(a plain-str separator such as ", " stays the same in every language).

A Message is a str (its English text), so code that only wants a string keeps working;
it also remembers its domain, id and fields, so that grading renders it again in the
chosen language. Fields may be Messages themselves (rendered in the same language) or
joined(...) lists. Plain str texts are shown as they are, in every language.

Translation happens once, at grading time: grade_submission(..., lang=) renders every
Message of the result with a Translator, and records `lang` in the result; every
rendering (terminal, JUnit, GitHub, Gradescope, gradebook feedback) then only picks
its own labels from the grader's catalog by result.lang.
"""

from __future__ import annotations

import functools
import os
import string
from collections.abc import Iterable, Mapping
from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LANGS: tuple[str, ...] = ("en", "zh-TW")
DEFAULT_LANG = "en"
LOCALE = "locale"  # the folder name of a catalog's files
LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")  # POSIX precedence


def lang_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The language the locale asks for: the first of LC_ALL, LC_MESSAGES, LANG that is
    set and not empty; "zh..." (zh_TW.UTF-8, zh_HK, zh) is zh-TW, the rest en."""
    environ = os.environ if environ is None else environ
    for name in LOCALE_VARIABLES:
        value = environ.get(name, "")
        if value:
            return "zh-TW" if value.lower().startswith("zh") else "en"
    return DEFAULT_LANG


# --- catalogs ---------------------------------------------------------------------------

class CatalogError(Exception):
    """A catalog file is missing or malformed: a problem of the grader or the assignment."""


def _flatten(table: Mapping[str, Any], prefix: str, out: dict[str, str], path: Path) -> None:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, name + ".", out, path)
        elif isinstance(value, str):
            out[name] = value
        else:
            raise CatalogError(f"{path}: {name} is not a text")


@functools.lru_cache(maxsize=64)
def _load(path: str, mtime_ns: int) -> dict[str, str]:
    # Keyed by mtime too: a catalog edited while a process runs (tests, a long batch
    # started by mistake before a fix) is read again rather than served stale.
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{path}: {error}") from None
    out: dict[str, str] = {}
    _flatten(data, "", out, Path(path))
    return out


def catalog_files(folder: Path, lang: str) -> list[Path]:
    """One language's files in a locale folder: LANG.toml and PART.LANG.toml (a catalog
    split by owner, e.g. experiments.en.toml), in name order."""
    try:
        mtime = Path(folder).stat().st_mtime_ns  # changes when a file comes or goes
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [Path(p) for p in _listing(str(folder), mtime, lang)]


@functools.lru_cache(maxsize=256)
def _listing(folder: str, mtime_ns: int, lang: str) -> tuple[str, ...]:
    return tuple(sorted(
        str(p) for p in Path(folder).iterdir()
        if p.is_file() and (p.name == f"{lang}.toml" or p.name.endswith(f".{lang}.toml"))))


def load_catalog(folder: Path, lang: str) -> Mapping[str, str]:
    """Message id -> template, from all of one language's files in a locale folder
    (empty if none; read-only, it is shared); an id in two files is a CatalogError."""
    files = tuple((str(p), p.stat().st_mtime_ns) for p in catalog_files(folder, lang))
    return _merged(files)


@functools.lru_cache(maxsize=64)
def _merged(files: tuple[tuple[str, int], ...]) -> Mapping[str, str]:
    merged: dict[str, str] = {}
    for path, mtime in files:
        part = _load(path, mtime)
        twice = merged.keys() & part.keys()
        if twice:
            raise CatalogError(f"{path}: {', '.join(sorted(twice))} also in another file "
                               "of its language")
        merged.update(part)
    return MappingProxyType(merged)


def placeholders(template: str) -> set[str]:
    """The field names a template uses: {name}, {ratio:.0f} and {0} give name, ratio, 0."""
    names = set()
    for _, field, _, _ in string.Formatter().parse(template):
        if field is not None and field != "":
            names.add(field.split(".")[0].split("[")[0])
    return names


class Domain:
    """The messages of one locale folder; calling it makes a Message."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def __call__(self, message_id: str, /, **params: Any) -> Message:
        return Message(self, message_id, params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Domain) and other.folder == self.folder

    def __hash__(self) -> int:
        return hash(self.folder)

    def __repr__(self) -> str:
        return f"Domain({str(self.folder)!r})"

    def catalog(self, lang: str) -> Mapping[str, str]:
        return load_catalog(self.folder, lang)

    def has(self, message_id: str) -> bool:
        return message_id in self.catalog(DEFAULT_LANG)

    def template(self, message_id: str, lang: str) -> str:
        """The template in lang; English when lang lacks it (tests keep the two equal), a
        KeyError when English lacks it too (a message id nobody wrote: a grader bug)."""
        found = self.catalog(lang).get(message_id) if lang != DEFAULT_LANG else None
        if found is None:
            english = self.catalog(DEFAULT_LANG)
            if message_id not in english:
                raise KeyError(f"no message {message_id!r} in {self.folder / 'en.toml'}")
            found = english[message_id]
        return found

    @staticmethod
    def near(file: str | os.PathLike[str]) -> Domain:
        return Domain(_locale_near(Path(file).resolve().parent))


@functools.lru_cache(maxsize=64)
def _locale_near(folder: Path) -> Path:
    for candidate in (folder, *folder.parents):
        if catalog_files(candidate / LOCALE, DEFAULT_LANG):
            return candidate / LOCALE
    raise CatalogError(f"no {LOCALE}/{DEFAULT_LANG}.toml at or above {folder}")


def messages_near(file: str | os.PathLike[str]) -> Domain:
    """The Domain of a check module: the nearest locale/ folder at or above `file`."""
    return Domain.near(file)


GRADER = Domain(Path(__file__).parent / LOCALE)  # the grader's own messages


# --- texts -------------------------------------------------------------------------------

class Text(str):
    """A student-facing text: a str holding its English form that can be rendered again
    in another language (see Translator)."""

    __slots__ = ()

    def localize(self, lang: str) -> str:
        raise NotImplementedError


class Message(Text):
    """One catalog message with its fields."""

    __slots__ = ("domain", "id", "params")

    def __new__(cls, domain: Domain, message_id: str, params: Mapping[str, Any]) -> Message:
        params = dict(params)
        self = super().__new__(cls, _fill(domain.template(message_id, DEFAULT_LANG), params,
                                          DEFAULT_LANG))
        self.domain, self.id, self.params = domain, message_id, params
        return self

    def localize(self, lang: str) -> str:
        if lang == DEFAULT_LANG:
            return str.__str__(self)
        return _fill(self.domain.template(self.id, lang), self.params, lang)

    def __reduce__(self):  # the fields cross processes; the text is made again
        return (Message, (self.domain, self.id, self.params))

    def __repr__(self) -> str:
        return f"Message({self.id!r}, {str.__repr__(self)})"


class Joined(Text):
    """Texts joined by a separator (itself maybe a Message: "; " is "；" in Chinese)."""

    __slots__ = ("parts", "separator")

    def __new__(cls, parts: Iterable[str], separator: str = ", ") -> Joined:
        parts = list(parts)
        self = super().__new__(cls, str(separator).join(parts))
        self.parts, self.separator = parts, separator
        return self

    def localize(self, lang: str) -> str:
        return localize(self.separator, lang).join(localize(p, lang) for p in self.parts)

    def __reduce__(self):
        return (Joined, (self.parts, self.separator))


def joined(parts: Iterable[str], separator: str = ", ") -> Joined:
    """parts (Messages or plain str) joined, each rendered in the reader's language."""
    return Joined(parts, separator)


def localize(value: Any, lang: str) -> Any:
    """A Text rendered in lang; any other value as it is."""
    return value.localize(lang) if isinstance(value, Text) else value


def _fill(template: str, params: Mapping[str, Any], lang: str) -> str:
    return template.format(**{k: localize(v, lang) for k, v in params.items()})


class Translator:
    """Renders every Text inside plain data (dataclasses, lists, dicts) in one language."""

    def __init__(self, lang: str) -> None:
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}; choose from {', '.join(LANGS)}")
        self.lang = lang

    def text(self, value: Any) -> Any:
        return localize(value, self.lang)

    def deep(self, value: Any) -> Any:
        """value with every Text in it rendered; plain str in place of Text everywhere
        (what JSON, pickling and comparisons then see)."""
        if isinstance(value, Text):
            return value.localize(self.lang)
        if isinstance(value, str):
            return value
        if is_dataclass(value) and not isinstance(value, type):
            return replace(value, **{f.name: self.deep(getattr(value, f.name))
                                     for f in fields(value) if f.init})
        if isinstance(value, list):
            return [self.deep(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.deep(v) for v in value)
        if isinstance(value, dict):
            return {k: self.deep(v) for k, v in value.items()}
        return value


def label(message_id: str, lang: str, /, **params: Any) -> str:
    """One of the grader's own texts in lang (report labels: "Score", "hint"...)."""
    return GRADER(message_id, **params).localize(lang)
