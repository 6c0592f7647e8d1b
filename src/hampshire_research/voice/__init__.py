"""Voices of children, families and practitioners in case records: where they appear and where
they are missing.

- codebook: WHO x FORM x ABSENCE as data (codebook.yaml), rendered for the site.
- autocode: a rule-based, offline sentence coder for case notes.
- exchange: voice coding as REFI-QDA projects (qda.refi) out to QDA tools and people's coding
  back in.
- agreement: sentence units, and on them kappa and alpha (qda.agreement) and the auto-coder's
  precision/recall.
- coverage: how many records hold the child's voice, an absence reason, or neither.
- voice_map: where the structured fields record voice (canonical tables only), and how often.
- tables: how each published table of the voice analysis is protected.
- data: the canonical case notes to code, and the synthetic gold codes that measure the coder.
"""

from ..qda.refi import RefiProject, export_qdc, export_qdpx, read_coding_csv, read_qdpx
from .agreement import agreement, precision_recall, unit_labels, units
from .autocode import autocode, code_note
from .codebook import VoiceCodebook, codebook_markdown, load_codebook
from .exchange import (
                       export_voice_project,
                       import_voice_coding,
                       segments_to_selections,
                       selections_to_segments,
)
from .sentences import sentence_units

__all__ = [
    "RefiProject", "VoiceCodebook", "agreement", "autocode", "code_note", "codebook_markdown",
    "export_qdc", "export_qdpx", "export_voice_project", "import_voice_coding", "load_codebook",
    "precision_recall", "read_coding_csv", "read_qdpx", "segments_to_selections",
    "selections_to_segments", "sentence_units", "unit_labels", "units",
]
