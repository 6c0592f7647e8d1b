"""The case notes coded once per build, for every notebook that reads voice in them.

The auto-coder is the slowest step of the voice analyses (about 5,000 notes a CPU-second), and
two notebooks need its codes, so the build codes the canonical texts once and keeps the
segments at <derived root>/<site>/voice/segments.parquet. Notes go through in chunks, so no
more than a chunk's segments are ever Python objects, and the chunks are spread over the
machine's cores; they are written back in note order, so the file is the same however many
cores coded it.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import ProjectError
from .autocode import COLUMNS, autocode

SEGMENTS = Path("voice") / "segments.parquet"
CHUNK = 10_000  # notes a worker codes at a time
# autocode's columns: offsets are whole numbers, the rest text (None where a code is absent)
SCHEMA = pa.schema([(c, pa.int64() if c in ("start", "end") else pa.string()) for c in COLUMNS])


def coding_input(canonical_dir: Path) -> pd.DataFrame:
    """What the coder reads of each note, in note order: note_id, text, child_first_name."""
    texts = pq.read_table(canonical_dir / "texts.parquet",
                          columns=["text_id", "record_id", "text"]).to_pandas()
    persons = pq.read_table(canonical_dir / "persons.parquet",
                            columns=["record_id", "first_name"]).to_pandas()
    return pd.DataFrame({"note_id": texts["text_id"], "text": texts["text"],
                         "child_first_name": child_first_names(texts, persons)}
                        ).sort_values("note_id", ignore_index=True)


def child_first_names(texts: pd.DataFrame, persons: pd.DataFrame) -> pd.Series:
    """Each note's child's first name as the note's own system records it (persons), so the
    coder can tell the child from others named in the note."""
    name = persons.drop_duplicates("record_id").set_index("record_id")["first_name"]
    return texts["record_id"].map(name)


def _code(chunk: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(autocode(chunk), schema=SCHEMA, preserve_index=False)


def _cores() -> int:
    """The cores this process may use: Linux knows its affinity, macOS and Windows do not."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _pool(chunks: int):
    """Worker processes for the chunks, spawned (not forked: the build's process runs DuckDB's
    threads); none when there is one chunk or one core."""
    workers = min(chunks, _cores())
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn")) if workers > 1 \
        else nullcontext()


def code_case_notes(canonical_dir: Path, root: Path, log=None) -> int:
    """Code every canonical case note into <root>/voice/segments.parquet; returns the notes.
    `log` hears how far it has got at each quarter, when there are four chunks or more."""
    notes = coding_input(Path(canonical_dir))
    chunks = [notes.iloc[i:i + CHUNK] for i in range(0, len(notes), CHUNK)]
    path = Path(root) / SEGMENTS
    path.parent.mkdir(parents=True, exist_ok=True)
    with pq.ParquetWriter(path, SCHEMA) as out, _pool(len(chunks)) as pool:
        coded = pool.map(_code, chunks) if pool else map(_code, chunks)
        for i, table in enumerate(coded, 1):
            out.write_table(table)
            if log and len(chunks) >= 4 and 4 * i // len(chunks) > 4 * (i - 1) // len(chunks):
                log(f"coded {min(i * CHUNK, len(notes)):,} of {len(notes):,} case notes")
    return len(notes)


def read_segments(root: Path) -> pd.DataFrame:
    """The build's coded segments (autocode's columns), in note order."""
    path = Path(root) / SEGMENTS
    if not path.is_file():
        raise ProjectError("no coded case notes (the build codes them: run `hampshire-research "
                           "build` first)", path=path)
    return pq.read_table(path).to_pandas()  # SCHEMA: autocode's columns and types
