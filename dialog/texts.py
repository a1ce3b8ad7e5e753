"""Reply texts per language: dialog/locales/<language>.toml, plus one file a flow in
dialog/locales/<language>/<flow>.toml (a key defined twice is an error)."""

from __future__ import annotations

import string
import tomllib
from datetime import date as Date
from pathlib import Path
from typing import NamedTuple

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("en", "pl", "ru")
DEFAULT_LANGUAGE = "en"


class Amount(NamedTuple):
    """Money for a text parameter, written in the reader's language by Texts.get."""

    minor: int
    currency: str


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
        """The text in the language; an Amount parameter is written as the language does."""
        catalog = self._catalogs.get(language) or self._catalogs[DEFAULT_LANGUAGE]
        template = catalog.get(key) or self._catalogs[DEFAULT_LANGUAGE][key]
        if not params:
            return template
        return template.format(**{
            name: self.money(language, value.minor, value.currency)
            if isinstance(value, Amount) else value
            for name, value in params.items()
        })

    def date(self, language: str, moment: Date) -> str:  # a day or a moment in it
        return moment.strftime(self.get(language, "date_format"))

    def money(self, language: str, minor: int, currency: str) -> str:
        """An amount in minor units the way the language writes it: 37.50 EUR, 37,50 EUR."""
        units, cents = divmod(abs(minor), 100)
        sign = "-" if minor < 0 else ""
        return self.get(language, "money_format", units=f"{sign}{units}", cents=f"{cents:02d}",
                        currency=currency)

    def keys(self, language: str) -> set[str]:
        return set(self._catalogs[language])

    def has(self, language: str, key: str) -> bool:
        return key in self._catalogs[language]

    def placeholders(self, language: str, key: str) -> set[str]:
        return {
            name for _, name, _, _ in string.Formatter().parse(self._catalogs[language][key])
            if name
        }
