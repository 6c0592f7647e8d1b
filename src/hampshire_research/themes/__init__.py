"""Thematic coding of research transcripts (interviews and focus groups about how information
is used), beside voice/ (voice in case records); both share qda/ (REFI-QDA, agreement).

- codebook: the research codebook as data (codebook.yaml), deductive and inductive themes.
- coding: the rule-based first pass, agreement, frequencies, co-occurrence, quotes and the
  REFI-QDA round trip.
- anonymise: redaction and checks before any words leave the secure environment.
- tables: how each published table is protected (disclosure registry).

The turns themselves are read by sources.transcripts, with every other input.
"""

from .anonymise import Anonymiser, anonymise_turns, build_anonymiser, leaked
from .codebook import Theme, ThemeCodebook, add_inductive_code, load_theme_codebook
from .coding import (
    CODE_COLUMNS,
    GROUP_LABELS,
    QUOTE_LABELS,
    ROLE_LABELS,
    Coding,
    agreement,
    agreement_table,
    anonymisation_check,
    cooccurrence,
    cooccurrence_matrix,
    exemplar_quotes,
    first_pass,
    from_refi,
    load_coding,
    named_cooccurrence,
    participant_turns,
    participants,
    plot_shares,
    read_codes,
    theme_frequencies,
    to_refi,
)

__all__ = [
    "CODE_COLUMNS", "GROUP_LABELS", "QUOTE_LABELS", "ROLE_LABELS", "Anonymiser", "Coding",
    "Theme", "ThemeCodebook", "add_inductive_code", "agreement", "agreement_table",
    "anonymisation_check", "anonymise_turns",
    "build_anonymiser", "cooccurrence", "cooccurrence_matrix", "exemplar_quotes", "first_pass",
    "from_refi", "leaked", "load_coding", "load_theme_codebook", "named_cooccurrence",
    "participant_turns", "participants", "plot_shares", "read_codes", "theme_frequencies", "to_refi",
]
