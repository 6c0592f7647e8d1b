"""The research codebook for transcripts as data (codebook.yaml): deductive themes, each with the
lexicon the first pass searches for, and the inductive codes the team adds while coding.

A different thing from the voice codebook (voice.codebook: WHO x FORM x ABSENCE for case-note
sentences), so a different type: ThemeCodebook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from ..errors import ProjectError


@dataclass(frozen=True)
class Theme:
    id: str
    name: str
    definition: str
    include: str = ""
    exclude: str = ""
    example: str = ""
    lexicon: tuple[str, ...] = ()
    inductive: bool = False


@dataclass(frozen=True)
class ThemeCodebook:
    version: str
    name: str
    themes: tuple[Theme, ...] = field(default_factory=tuple)

    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    def names(self) -> dict[str, str]:
        return {t.id: t.name for t in self.themes}

    def table(self) -> pd.DataFrame:
        """The codebook as a table, for the published page."""
        return pd.DataFrame([{"id": t.id, "name": t.name, "kind": "inductive" if t.inductive
                              else "deductive", "definition": t.definition,
                              "include": t.include, "exclude": t.exclude,
                              "example": t.example} for t in self.themes])


def load_theme_codebook(path: Path | str | None = None) -> ThemeCodebook:
    """The packaged research codebook, or one at ``path`` with the same shape."""
    if path is None:
        text = resources.files("hampshire_research.themes").joinpath("codebook.yaml").read_text(
            encoding="utf-8")
        where = "themes/codebook.yaml"
    else:
        where = Path(path)
        try:
            text = where.read_text(encoding="utf-8")
        except OSError as e:
            raise ProjectError(f"cannot read codebook: {e.strerror}", path=where) from e
    try:
        data = yaml.safe_load(text)
        themes = [_theme(t, False, where) for t in data["themes"]]
        themes += [_theme(t, True, where) for t in data.get("inductive") or []]
        book = ThemeCodebook(str(data["version"]), data["name"], tuple(themes))
    except (yaml.YAMLError, KeyError, TypeError) as e:
        raise ProjectError(f"not a themes codebook ({e})", path=where) from e
    ids = book.ids()
    if len(set(ids)) != len(ids):
        raise ProjectError("codebook has a theme id twice", path=where)
    return book


def _theme(data: dict, inductive: bool, where) -> Theme:
    lexicon = tuple(data.get("lexicon") or ())
    for pattern in lexicon:
        try:
            re.compile(pattern)
        except re.error as e:
            raise ProjectError(f"theme {data.get('id')}: bad lexicon pattern {pattern!r} ({e})",
                               path=where) from e
    return Theme(id=data["id"], name=data["name"], definition=data.get("definition", ""),
                 include=data.get("include", ""), exclude=data.get("exclude", ""),
                 example=data.get("example", ""), lexicon=lexicon, inductive=inductive)


def add_inductive_code(codebook: ThemeCodebook, id: str, name: str, definition: str,
                       lexicon: tuple[str, ...] | list[str] = ()) -> ThemeCodebook:
    """A copy of the codebook with one inductive code added (ids conventionally "I.<NAME>")."""
    if id in codebook.ids():
        raise ProjectError(f"code {id!r} is already in the codebook")
    theme = _theme({"id": id, "name": name, "definition": definition, "lexicon": list(lexicon)},
                   True, "add_inductive_code")
    return replace(codebook, themes=codebook.themes + (theme,))
