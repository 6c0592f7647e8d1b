"""The voice codebook as data: one YAML file in the package, read here and rendered for the site."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import pandas as pd
import yaml

from ..errors import ProjectError

DIMENSIONS = ("WHO", "FORM", "ABSENCE")
# The column of an auto-coder row each dimension fills.
COLUMN = {"WHO": "who", "FORM": "form", "ABSENCE": "absence"}


@dataclass(frozen=True)
class VoiceCodebook:
    """WHO x FORM x ABSENCE codes for case-note sentences (not the transcripts' ThemeCodebook)."""

    name: str
    version: str
    unit: str
    rules: tuple[str, ...]
    codes: pd.DataFrame  # id, name, dimension, definition, include, exclude, example

    def ids(self, dimension: str | None = None) -> list[str]:
        c = self.codes
        return list(c.loc[c.dimension == dimension, "id"] if dimension else c["id"])

    def refi_codes(self) -> pd.DataFrame:
        """Codes as the REFI exporter wants them: dimensions become folders that cannot be coded."""
        folders = pd.DataFrame({"id": [d for d in self.codes.dimension.unique()],
                                "name": [d for d in self.codes.dimension.unique()],
                                "parent": None, "codable": False, "description": ""})
        codes = pd.DataFrame({"id": self.codes.id, "name": self.codes.id + " " + self.codes.name,
                              "parent": self.codes.dimension, "codable": True,
                              "description": self.codes.definition})
        return pd.concat([folders, codes], ignore_index=True)


@cache
def load_codebook() -> VoiceCodebook:
    """The packaged codebook (voice/codebook.yaml)."""
    path = files("hampshire_research.voice") / "codebook.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    rows = []
    for dim in raw["dimensions"]:
        for c in dim["codes"]:
            missing = {"id", "name", "definition", "example"} - set(c)
            if missing:
                raise ProjectError(f"code lacks {sorted(missing)}", path=str(path), field=c.get("id"))
            rows.append({"id": c["id"], "name": c["name"], "dimension": dim["id"],
                         "dimension_name": dim["name"], "definition": c["definition"],
                         "include": c.get("include", ""), "exclude": c.get("exclude", ""),
                         "example": c["example"]})
    codes = pd.DataFrame(rows)
    if codes.id.duplicated().any():
        raise ProjectError(f"duplicate code ids {sorted(codes.id[codes.id.duplicated()])}",
                           path=str(path))
    return VoiceCodebook(raw["name"], str(raw["version"]), raw["unit"], tuple(raw["rules"]), codes)


def _cell(s: str) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def codebook_markdown(codebook: VoiceCodebook | None = None) -> str:
    """The codebook as a Quarto page (reports/codebook.qmd is this text, checked by a test)."""
    cb = codebook or load_codebook()
    out = ["---", f'title: "Voice codebook (version {cb.version})"', "---", "",
           f"{cb.name}. The unit of coding is the **{cb.unit}**. Every example is invented.",
           "The codebook is kept as data in `src/hampshire_research/voice/codebook.yaml`; this page",
           "is generated from it by `hampshire_research.voice.codebook_markdown()`.", "",
           "## Rules", ""]
    out += [f"- {r}" for r in cb.rules]
    for dim, block in cb.codes.groupby("dimension", sort=False):
        out += ["", f"## {dim}: {block.dimension_name.iloc[0]}", "",
                "| Code | Name | Definition | Include | Exclude | Example |",
                "|---|---|---|---|---|---|"]
        out += [f"| `{r.id}` | {_cell(r.name)} | {_cell(r.definition)} | {_cell(r.include)} | "
                f"{_cell(r.exclude)} | {_cell(r.example)} |" for r in block.itertuples()]
    return "\n".join(out) + "\n"
