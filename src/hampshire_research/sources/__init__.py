"""Everything that enters the analyses comes through here: a council's real extracts and our
synthetic sample are read by the same readers into the same canonical tables.

    validate_site(params, data_dir, out_dir) -> report   (builds out_dir/canonical/)
    load_canonical(canonical_dir) -> {table name: frame}
    load_report(out_dir) -> the validation report (every file, rows read = kept + quarantined)
    check_kept(report, min_kept) -> an error when a file kept too few rows or a source none
    pseudonymise_canonical(canonical_dir, out_dir)       (keyed hashes, for export)

DATA_DICTIONARY.md beside this file describes the tables, the aliases and the reasons.
"""

from ..vocabulary import is_synthetic
from .pseudonymise import pseudonymise_canonical, pseudonymise_tables
from .validate import (
    build_canonical,
    check_kept,
    format_report,
    load_canonical,
    load_report,
    validate_site,
)

__all__ = ["build_canonical", "check_kept", "format_report", "is_synthetic", "load_canonical", "load_report",
           "pseudonymise_canonical", "pseudonymise_tables", "validate_site"]
