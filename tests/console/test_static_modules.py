"""The console page's own files: ES modules small enough to read, label tables that say the
same things in English, Polish and Russian, and every file the page loads served as a browser
needs it (module scripts only run with a JavaScript MIME type) and cached by its ETag."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from dialog.nlu.labels import INTENTS
from tests.conftest import LiveServer

STATIC = Path(__file__).resolve().parents[2] / "console" / "static"
MODULES = STATIC / "console"
LOCALES = STATIC / "locales"
LANGUAGES = ("en", "pl", "ru")
MAX_LINES = 400

_IMPORT = re.compile(r'^import .* from "\./([\w-]+\.js)";$', re.MULTILINE)
_LABEL_CALL = re.compile(r'\bt\("([\w.]+)"[,)]')  # a whole key, not a prefix
_LABEL_ATTRIBUTE = re.compile(r'data-label(?:-[a-z]+)?="([\w.]+)"')
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def table(language: str) -> dict[str, str]:
    labels = json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    assert isinstance(labels, dict)
    return labels


def page_scripts() -> list[Path]:
    """Every script of the console's static folder but the vendored, minified ones."""
    return sorted(path for path in STATIC.rglob("*.js") if "vendor" not in path.parts)


def module_graph() -> list[str]:
    """main.js and every module it imports, directly or not, as paths under the static mount."""
    seen: list[str] = []
    todo = ["main.js"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.append(name)
        todo.extend(_IMPORT.findall((MODULES / name).read_text(encoding="utf-8")))
    return sorted(seen)


def test_no_script_of_the_console_is_over_400_lines() -> None:
    scripts = page_scripts()
    assert MODULES / "main.js" in scripts
    too_long = {path.relative_to(STATIC).as_posix(): lines for path in scripts
                if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert too_long == {}


def test_every_module_in_the_folder_is_part_of_the_page() -> None:
    assert module_graph() == sorted(path.name for path in MODULES.glob("*.js"))


@pytest.mark.parametrize("language", ["pl", "ru"])
def test_each_language_has_exactly_the_english_labels(language: str) -> None:
    english, other = table("en"), table(language)
    assert sorted(set(english) - set(other)) == []  # missing in the other language
    assert sorted(set(other) - set(english)) == []  # in the other language only
    for key, text in other.items():
        assert isinstance(text, str) and text.strip(), key
        # A value the page fills in ({name}, {count}) must be named the same in every language.
        assert set(_PLACEHOLDER.findall(text)) == set(_PLACEHOLDER.findall(english[key])), key
    # Translated, not copied: only names (Telegram, Slack, BLIK, Status...) stay as they are.
    same = [key for key in english if english[key] == other[key]]
    assert len(same) < len(english) // 10, same


def listed(module: str, constant: str) -> list[str]:
    """The strings of a module's `const NAME = [...]`."""
    found = re.search(rf"const {constant} = \[(.*?)\];",
                      (MODULES / module).read_text(encoding="utf-8"), re.DOTALL)
    assert found is not None, constant
    return re.findall(r'"(\w+)"', found.group(1))


def test_every_label_the_page_names_is_in_the_tables() -> None:
    english = table("en")
    named = set(_LABEL_ATTRIBUTE.findall((STATIC / "console.html").read_text(encoding="utf-8")))
    for path in MODULES.glob("*.js"):
        named |= set(_LABEL_CALL.findall(path.read_text(encoding="utf-8")))
    # The intents offered under "What did they mean?" are the 13 of DESIGN.md, each named;
    # so is each of an order's action buttons and its confirmation.
    intents = listed("names.js", "INTENTS")
    assert sorted(intents) == sorted(INTENTS)
    named |= {f"intent.{intent}" for intent in intents}
    named |= {f"{kind}.{action}" for action in listed("context.js", "ACTIONS")
              for kind in ("action", "confirm")}
    assert len(named) > 150
    assert sorted(named - set(english)) == []


async def test_the_page_loads_its_modules_and_labels_as_a_browser_needs_them(
    console_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=console_server.url) as browser:
        page = await browser.get("/console")
        assert '<script type="module" src="/console/static/console/main.js">' in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        for name in module_graph():
            module = await browser.get(f"/console/static/console/{name}")
            assert module.status_code == 200, name
            assert module.headers["content-type"].startswith("text/javascript"), name
            # Cached as every static file: revalidated by its ETag, not fetched again.
            again = await browser.get(f"/console/static/console/{name}",
                                      headers={"If-None-Match": module.headers["etag"]})
            assert again.status_code == 304, name
        for language in LANGUAGES:
            labels = await browser.get(f"/console/static/locales/{language}.json")
            assert labels.status_code == 200
            assert labels.headers["content-type"] == "application/json"
            assert labels.json() == table(language)
        missing = await browser.get("/console/static/locales/de.json")
        assert missing.status_code == 404
