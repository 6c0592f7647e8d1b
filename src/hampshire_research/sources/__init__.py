"""Everything that enters the analyses comes through here: a council's real extracts and our
synthetic sample are read by the same readers into the same canonical tables.

    validate_site(params, data_dir, out_dir) -> report   (builds out_dir/canonical/)
    load_canonical(canonical_dir) -> {table name: frame}
"""

from .validate import build_canonical, format_report, is_synthetic, load_canonical, validate_site

__all__ = ["build_canonical", "format_report", "is_synthetic", "load_canonical",
           "validate_site"]
