"""What case notes and research transcripts share as qualitative data.

- refi: REFI-QDA projects (.qdpx) and codebooks (.qdc) out to QDA tools and people's coding back.
- agreement: kappa and alpha with bootstrap intervals, for any units x coders table.
"""

from .agreement import agreement_stats
from .refi import RefiProject, export_qdc, export_qdpx, read_coding_csv, read_qdpx

__all__ = ["RefiProject", "agreement_stats", "export_qdc", "export_qdpx", "read_coding_csv",
           "read_qdpx"]
