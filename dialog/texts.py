"""Reply texts per language: dialog/locales/<language>.toml, plus one file a flow in
dialog/locales/<language>/<flow>.toml (a key defined twice is an error)."""

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
        catalogs: dict[str, dict[str, str]] = {}
        for language in LANGUAGES:
            catalog: dict[str, str] = {}
            files = [directory / f"{language}.toml", *sorted((directory / language).glob("*.toml"))]
            for path in files:
                if not path.is_file():
                    continue
                texts = tomllib.loads(path.read_text("utf-8"))
                twice = catalog.keys() & texts.keys()
                if twice:
                    raise ValueError(f"{path}: {', '.join(sorted(twice))} defined twice")
                catalog.update(texts)
            catalogs[language] = catalog
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


def money(minor: int, currency: str) -> str:
    """An amount in minor units as "12.50 EUR"."""
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d} {currency}"
