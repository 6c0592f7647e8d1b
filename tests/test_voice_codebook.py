"""The voice codebook: ids exactly as the draft codebook (§5), complete entries, site page in sync."""

from pathlib import Path

from hampshire_research.voice import codebook_markdown, load_codebook

ROOT = Path(__file__).resolve().parents[1]


def test_ids_are_the_reference_codebook():
    cb = load_codebook()
    assert cb.ids("WHO") == ["W.CYP", "W.SIB", "W.PAR", "W.FAM", "W.PRAC", "W.PROF"]
    assert cb.ids("FORM") == ["F.DQ", "F.RS", "F.WF", "F.NV", "F.MED"]
    assert cb.ids("ABSENCE") == ["A.NOTSEEN", "A.NOTALONE", "A.NOTSOUGHT", "A.TOOYOUNG",
                                 "A.DECLINED", "A.BARRIER"]
    assert cb.ids("FLAGS") == ["C.ALONE", "C.TOOL", "I.INFLUENCE"]
    assert cb.version == "1.0" and cb.unit == "sentence"


def test_every_code_has_definition_rules_and_an_example():
    codes = load_codebook().codes
    for col in ("definition", "include", "exclude", "example"):
        assert codes[col].str.len().min() > 5, col


def test_refi_codes_put_codes_in_uncodable_folders():
    rc = load_codebook().refi_codes()
    folders = rc[rc.parent.isna()]
    assert list(folders.id) == ["WHO", "FORM", "ABSENCE", "FLAGS"]
    assert not folders.codable.any()
    assert rc[rc.parent.notna()].codable.all()
    assert rc.loc[rc.id == "W.CYP", "name"].item() == "W.CYP Child or young person"


def test_site_page_is_generated_from_the_yaml():
    page = (ROOT / "reports" / "codebook.qmd").read_text(encoding="utf-8")
    assert page == codebook_markdown(), "run: python -c 'from hampshire_research.voice import " \
        "codebook_markdown; open(\"reports/codebook.qmd\", \"w\").write(codebook_markdown())'"
    assert page.count("| `") == 20  # one table row per code
