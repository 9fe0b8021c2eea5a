"""Languages: the catalogs (every message in both languages, with the same placeholders),
every message id the code uses exists, check titles, and the i18n API itself.

End-to-end grading in both languages is in test_i18n_grading.py.
"""

from __future__ import annotations

import ast
import importlib.util
import pickle
import re
import sys
import typing
from pathlib import Path

import pytest

from grader import i18n
from grader.checks import plugin
from grader.i18n import (
    GRADER,
    CatalogError,
    Domain,
    Message,
    Translator,
    catalog_files,
    joined,
    lang_from_env,
    load_catalog,
    placeholders,
)
from grader.report.common import DETAILS
from grader.results import STATUSES
from grader.submission.model import Kind
from grader.worker import errors

ROOT = Path(__file__).resolve().parents[1]
DAY65 = ROOT / "assignments" / "day65"
XORLAB = ROOT / "tests" / "course" / "assignments" / "xorlab"  # the second assignment


def locale_folders() -> list[Path]:
    """Every locale/ folder of the project (the grader's, assignments', hidden ones)."""
    found = {p.parent for p in ROOT.glob("grader/**/locale/*.toml")}
    found |= {p.parent for p in ROOT.glob("assignments/**/locale/*.toml")}
    found |= {p.parent for p in ROOT.glob("tests/**/locale/*.toml")}
    return sorted(found)


def parts(folder: Path) -> set[str]:
    """The catalog's parts: "" for en.toml / zh-TW.toml, "experiments" for
    experiments.en.toml / experiments.zh-TW.toml."""
    names = set()
    for path in folder.glob("*.toml"):
        for lang in i18n.LANGS:
            if path.name == f"{lang}.toml":
                names.add("")
            elif path.name.endswith(f".{lang}.toml"):
                names.add(path.name[: -len(f".{lang}.toml")])
    return names


def part_file(folder: Path, part: str, lang: str) -> Path:
    return folder / (f"{part}.{lang}.toml" if part else f"{lang}.toml")


# --- the catalogs ---------------------------------------------------------------------

def test_the_project_has_the_expected_catalogs():
    folders = locale_folders()
    assert {ROOT / "grader" / "locale", DAY65 / "locale", DAY65 / "hidden" / "locale"} <= \
        set(folders)


@pytest.mark.parametrize("folder", locale_folders(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_exists_in_both_languages_with_the_same_placeholders(folder):
    for part in sorted(parts(folder)):
        files = {lang: part_file(folder, part, lang) for lang in i18n.LANGS}
        missing = [str(p.relative_to(ROOT)) for p in files.values() if not p.is_file()]
        assert not missing, f"a catalog part exists in one language only: {missing}"
        texts = {lang: i18n._load(str(p), p.stat().st_mtime_ns) for lang, p in files.items()}
        en, zh = texts["en"], texts["zh-TW"]
        assert not set(en) - set(zh), f"{files['zh-TW']} lacks {sorted(set(en) - set(zh))}"
        assert not set(zh) - set(en), f"{files['en']} lacks {sorted(set(zh) - set(en))}"
        differ = {k: (sorted(placeholders(en[k])), sorted(placeholders(zh[k])))
                  for k in en if placeholders(en[k]) != placeholders(zh[k])}
        assert not differ, f"placeholders differ in {folder}: {differ}"
        empty = [k for k in en if bool(en[k].strip()) != bool(zh[k].strip())]
        assert not empty, f"empty in one language only: {empty}"


@pytest.mark.parametrize("folder", locale_folders(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_template_formats_with_its_placeholders(folder):
    for lang in i18n.LANGS:
        for key, text in load_catalog(folder, lang).items():
            fields = {name: 7 for name in placeholders(text)}
            try:
                text.format(**fields)  # a stray { or an unknown conversion fails here
            except (ValueError, KeyError, IndexError) as error:
                pytest.fail(f"{lang} {key}: {error}")


@pytest.mark.parametrize("folder", locale_folders(), ids=lambda p: str(p.relative_to(ROOT)))
def test_chinese_texts_are_chinese_and_in_traditional_characters(folder):
    """Not a proofreading: it catches an English sentence pasted into zh-TW.toml as it is,
    and characters that exist only in Simplified Chinese."""
    simplified = set("这个们说时对没发现应该数组错误设为与从参类输检执导权处")
    en, zh = load_catalog(folder, "en"), load_catalog(folder, "zh-TW")
    for key, text in zh.items():
        if _is_prose(re.sub(r"\{[^}]*\}", "", en[key])):
            # Chinese characters, or at least Chinese punctuation (a formula's title)
            assert re.search(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]", text), \
                f"{key} is not translated: {text!r}"
        assert not simplified & set(text), f"{key} has Simplified characters: {text!r}"


def _is_prose(text: str) -> bool:
    """English words outside code: at least a few that are not Python names."""
    code = {"np", "numpy", "rng", "float", "array", "dtype", "int", "sys", "exit", "os",
            "none", "true", "false", "sign", "abs", "sum", "maximum", "tanh", "exp", "relu"}
    words = [w for w in re.findall(r"\b[a-z]{3,}\b", text) if w not in code]
    return len(words) >= 4


def test_a_catalog_split_in_parts_is_merged_and_an_id_in_two_parts_is_refused(tmp_path):
    (tmp_path / "en.toml").write_text('[a]\nx = "one {n}"\n', encoding="utf-8")
    (tmp_path / "more.en.toml").write_text('[b]\ny = "two"\n', encoding="utf-8")
    assert dict(load_catalog(tmp_path, "en")) == {"a.x": "one {n}", "b.y": "two"}
    assert [p.name for p in catalog_files(tmp_path, "en")] == ["en.toml", "more.en.toml"]
    (tmp_path / "again.en.toml").write_text('[a]\nx = "dup"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match="a.x"):
        load_catalog(tmp_path, "en")


def test_a_catalog_that_is_not_text_is_refused(tmp_path):
    (tmp_path / "en.toml").write_text("n = 3\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="not a text"):
        load_catalog(tmp_path, "en")


# --- every id the code uses exists ------------------------------------------------------

def _python_files() -> list[Path]:
    files = [*ROOT.glob("grader/**/*.py"), *ROOT.glob("assignments/**/*.py")]
    return sorted(p for p in files if "__pycache__" not in p.parts)


def _message_names(tree: ast.Module) -> set[str]:
    """Names bound to messages_near(...) / Domain.near(...) in a module (`msg`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called in ("messages_near", "near"):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def used_ids(path: Path) -> list[tuple[Domain, str, int]]:
    """(domain, id, line) of every literal message id in a module: msg("..."),
    GRADER("..."), label("...", lang)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    local = _message_names(tree)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            continue
        if node.func.id in local:
            found.append((Domain.near(path), node.args[0].value, node.lineno))
        elif node.func.id in ("GRADER", "label"):
            found.append((GRADER, node.args[0].value, node.lineno))
    return found


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_id_used_in_the_code_is_in_the_catalogs(path):
    ids = used_ids(path)
    missing = [f"line {line}: {mid} (not in {domain.folder.relative_to(ROOT)})"
               for domain, mid, line in ids if not domain.has(mid)]
    assert not missing, "\n".join(missing)


def test_the_scan_finds_the_ids_of_the_converted_checks():
    """The scan above is only worth something if it sees the calls."""
    for name in ("checks/test_activations.py", "checks/test_regularization.py",
                 "checks/test_minibatch.py", "hidden/test_activations_hidden.py",
                 "hidden/test_regularization_hidden.py", "hidden/test_minibatch_hidden.py"):
        assert len(used_ids(DAY65 / name)) >= 5, name
    assert len(used_ids(ROOT / "grader" / "checks" / "__init__.py")) >= 10


def test_ids_built_at_run_time_exist():
    """Ids the code composes (f"worker.{code}", f"report.count.{status}"...)."""
    english = GRADER.catalog("en")
    composed = [f"report.count.{s}" for s in STATUSES]
    composed += [f"report.label.{d}" for d in DETAILS]
    composed += [f"report.kind_name.{k}" for k in typing.get_args(Kind)]
    composed += [f"report.github.{n}" for n in ("cell", "line")]
    composed += [f"worker.{code}" for code in errors.MESSAGES]
    composed += [f"submission.{mid}" for mid in i18n_submission_ids()]
    assert not [c for c in composed if c not in english]


def i18n_submission_ids() -> list[str]:
    from grader.submission.messages import MESSAGES

    return list(MESSAGES)


def test_the_old_english_tables_come_from_the_catalog():
    from grader.submission.messages import MESSAGES as SUBMISSION

    assert errors.MESSAGES["timeout"] == "{name} did not return within {seconds} s"
    assert SUBMISSION["path.not_found"] == "The submission {path} does not exist."


# --- check titles ------------------------------------------------------------------------

def _check_modules() -> list[Path]:
    return sorted(path for root in (DAY65, XORLAB) for folder in ("checks", "hidden")
                  for path in (root / folder).glob("test_*.py"))


def _import(path: Path, monkeypatch):
    """The module as the grading run imports it: its assignment's helpers module
    (<name>_helpers.py at the assignment's root) importable."""
    root = path.parents[1]
    helpers = f"{root.name}_helpers"
    monkeypatch.syspath_prepend(str(root))
    name = f"_i18n_titles_{root.name}_{path.parent.name}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
        sys.modules.pop(helpers, None)
    return module


def _checks(path: Path, monkeypatch):
    """(name, title marker argument, function) of each check of a module."""
    # The checks' markers are the grading plugin's, unknown to this test run's
    # --strict-markers: let the module's decorators make them anyway.
    monkeypatch.setattr(pytest.mark, "_config", None)
    module = _import(path, monkeypatch)
    for attr, function in vars(module).items():
        if attr.startswith("test_") and callable(function):
            marks = [m for m in getattr(function, "pytestmark", []) if m.name == "title"]
            yield attr.removeprefix("test_"), (marks[0].args[0] if marks else None), function


@pytest.mark.parametrize("path", _check_modules(),
                         ids=lambda p: f"{p.parents[1].name}/{p.parent.name}/{p.name}")
def test_every_check_has_a_title_in_both_languages_equal_to_its_docstring(path, monkeypatch):
    problems = []
    for name, marked, function in _checks(path, monkeypatch):
        title = plugin.title_of(path, name, marked, function)
        if not isinstance(title, Message):
            problems.append(f"{name}: no title in the catalog (title.{name} or a title marker)")
            continue
        for lang in i18n.LANGS:
            if title.id not in title.domain.catalog(lang):
                problems.append(f"{name}: {title.id} missing in {lang}")
        if str(title) != plugin.docstring_title(function):
            problems.append(f"{name}: en title {str(title)!r} != docstring "
                            f"{plugin.docstring_title(function)!r}")
    assert not problems, "\n".join(problems)


def test_hidden_titles_are_only_in_the_hidden_catalog():
    """The public catalog ships in the wheel: it must not name what the hidden checks test."""
    public = {**load_catalog(DAY65 / "locale", "en"), **load_catalog(DAY65 / "locale", "zh-TW")}
    hidden = load_catalog(DAY65 / "hidden" / "locale", "en")
    hidden_titles = {k.removeprefix("title."): v for k, v in hidden.items()
                     if k.startswith("title.")}
    assert hidden_titles
    assert not {f"title.{name}" for name in hidden_titles} & set(public)
    assert not set(hidden_titles.values()) & set(public.values())


# --- the API -----------------------------------------------------------------------------

@pytest.mark.parametrize(("environ", "lang"), [
    ({"LANG": "zh_TW.UTF-8"}, "zh-TW"),
    ({"LANG": "C"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}, "zh-TW"),
    ({"LANG": "zh_TW.UTF-8", "LC_MESSAGES": "en_US.UTF-8"}, "en"),
    ({"LANG": "zh_TW.UTF-8", "LC_ALL": "C"}, "en"),
    ({"LANG": "C", "LC_ALL": "zh_HK.UTF-8"}, "zh-TW"),
    ({"LANG": "zh_TW.UTF-8", "LC_ALL": ""}, "zh-TW"),  # set but empty: not a choice
    ({"LANG": "zh"}, "zh-TW"),
    ({"LANG": "fr_FR.UTF-8"}, "en"),
])
def test_the_default_language_comes_from_the_locale(environ, lang):
    assert lang_from_env(environ) == lang


def test_a_message_is_its_english_text_and_renders_in_chinese():
    message = GRADER("worker.timeout", name="relu", seconds=3)
    assert message == "relu did not return within 3 s"
    assert isinstance(message, str) and message.id == "worker.timeout"
    assert message.localize("zh-TW") == "relu 沒有在 3 秒內回傳"
    assert message.localize("en") == "relu did not return within 3 s"
    assert f"<{message}>" == "<relu did not return within 3 s>"


def test_fields_that_are_messages_or_joined_lists_render_in_the_same_language():
    inner = GRADER("worker.your_code")
    outer = GRADER("worker.exit", name=inner)
    assert outer.localize("zh-TW").startswith("執行 你的程式 時")
    parts = joined([GRADER("submission.what.loop"), "x"], GRADER("submission.hint.or"))
    assert parts == "a loop or x" and parts.localize("zh-TW") == "迴圈 或 x"


def test_messages_survive_pickling_and_the_translator_leaves_plain_data():
    message = GRADER("submission.folder.more", count=3)
    copy = pickle.loads(pickle.dumps(message))
    assert copy == message and copy.localize("zh-TW") == "以及另外 3 個"
    data = {"a": [message, "plain", 3], "b": (message,)}
    out = Translator("zh-TW").deep(data)
    assert out == {"a": ["以及另外 3 個", "plain", 3], "b": ("以及另外 3 個",)}
    assert type(out["a"][0]) is str


def test_an_unknown_id_fails_and_a_missing_translation_falls_back_to_english(tmp_path):
    (tmp_path / "en.toml").write_text('a = "A {x}"\nb = "B"\n', encoding="utf-8")
    (tmp_path / "zh-TW.toml").write_text('a = "甲 {x}"\n', encoding="utf-8")
    domain = Domain(tmp_path)
    assert domain("a", x=1).localize("zh-TW") == "甲 1"
    assert domain("b").localize("zh-TW") == "B"
    with pytest.raises(KeyError, match="nope"):
        domain("nope")
    with pytest.raises(ValueError, match="zh-TW"):
        Translator("fr")


def test_a_check_module_finds_the_nearest_locale_folder(tmp_path):
    (tmp_path / "locale").mkdir()
    (tmp_path / "locale" / "en.toml").write_text('t = "x"\n', encoding="utf-8")
    (tmp_path / "checks").mkdir()
    assert i18n.messages_near(tmp_path / "checks" / "test_x.py").folder == tmp_path / "locale"
    assert Domain.near(DAY65 / "hidden" / "test_x.py").folder == DAY65 / "hidden" / "locale"
    assert Domain.near(DAY65 / "checks" / "test_x.py").folder == DAY65 / "locale"


def test_the_scan_reports_an_id_missing_from_the_catalog(tmp_path):
    (tmp_path / "locale").mkdir()
    (tmp_path / "locale" / "en.toml").write_text('[a]\nthere = "x"\n', encoding="utf-8")
    module = tmp_path / "test_x.py"
    module.write_text('from grader.i18n import messages_near\nmsg = messages_near(__file__)\n'
                      'msg("a.there")\nmsg("a.missing", n=1)\nGRADER("report.nope")\n',
                      encoding="utf-8")
    found = {(d.folder, mid) for d, mid, _ in used_ids(module)}
    assert found == {(tmp_path / "locale", "a.there"), (tmp_path / "locale", "a.missing"),
                     (GRADER.folder, "report.nope")}
    assert [mid for d, mid, _ in used_ids(module) if not d.has(mid)] == ["a.missing",
                                                                          "report.nope"]
