"""Reply texts per language, from dialog/locales/<language>.toml."""

from __future__ import annotations

import string
import tomllib
from datetime import datetime
from pathlib import Path

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("en", "pl", "ru")
DEFAULT_LANGUAGE = "en"


class Texts:
    def __init__(self, catalogs: dict[str, dict[str, str]]) -> None:
        self._catalogs = catalogs

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> Texts:
        catalogs = {
            language: tomllib.loads((directory / f"{language}.toml").read_text("utf-8"))
            for language in LANGUAGES
        }
        return cls(catalogs)

    def get(self, language: str, key: str, **params: object) -> str:
        catalog = self._catalogs.get(language) or self._catalogs[DEFAULT_LANGUAGE]
        template = catalog.get(key) or self._catalogs[DEFAULT_LANGUAGE][key]
        return template.format(**params) if params else template

    def date(self, language: str, moment: datetime) -> str:
        return moment.strftime(self.get(language, "date_format"))

    def keys(self, language: str) -> set[str]:
        return set(self._catalogs[language])

    def placeholders(self, language: str, key: str) -> set[str]:
        return {
            name for _, name, _, _ in string.Formatter().parse(self._catalogs[language][key])
            if name
        }
