"""Loading a model's ``dataset.csv`` / ``dataset.xlsx`` into a text-typed DataFrame.

Columns: ``sample_id`` (required, non-empty), optional ``document_id``, the config's
``scenario_columns``, and ``<field>_golden`` / ``<field>_predicted`` for every configured field.
Every cell is read as text (``string`` dtype) so that typing and format problems surface as
quality issues with the raw value, not as silent pandas coercions; empty or whitespace-only
cells become ``<NA>``. The frame gets a ``ROW_COLUMN`` holding the spreadsheet row number.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from pathlib import Path
from zipfile import BadZipFile

import pandas as pd

from lexi_pipelines.evaluation.config import EvaluationConfig
from lexi_pipelines.evaluation.errors import EvaluationInputError
from lexi_pipelines.evaluation.uploads import DATASET_NAMES

SAMPLE_ID = "sample_id"
DOCUMENT_ID = "document_id"
ROW_COLUMN = "__row__"
# Header is spreadsheet row 1, so the first sample is row 2.
_FIRST_DATA_ROW = 2


def golden(field: str) -> str:
    return f"{field}_golden"


def predicted(field: str) -> str:
    return f"{field}_predicted"


def required_columns(config: EvaluationConfig) -> list[str]:
    cols = [SAMPLE_ID, *config.scenario_columns]
    for name in config.fields:
        cols += [golden(name), predicted(name)]
    return cols


def find_dataset(model_dir: Path) -> Path:
    for name in DATASET_NAMES:
        candidate = model_dir / name
        if candidate.is_file():
            return candidate
    raise EvaluationInputError(model_dir, f"no {' / '.join(DATASET_NAMES)} found")


def _excel_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _read(path: Path, content: bytes | None) -> pd.DataFrame:
    # header=None: pandas would rename a repeated header ("x", "x.1") and hide the duplicate.
    suffix = path.suffix.lower()
    source: Path | io.BytesIO = io.BytesIO(content) if content is not None else path
    if suffix == ".xlsx":
        # Cells keep their Excel types here, so dates can be written as a CSV export shows them.
        raw = pd.read_excel(
            source, header=None, dtype=object, keep_default_na=False, engine="openpyxl"
        ).map(_excel_text)
    elif suffix == ".csv":
        raw = pd.read_csv(
            source, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig"
        )
    else:
        raise EvaluationInputError(path, f"unsupported dataset type {suffix!r} (use .csv or .xlsx)")
    frame = raw.iloc[1:].reset_index(drop=True)
    frame.columns = [str(c) for c in raw.iloc[0]] if len(raw) else []
    return frame


def load_dataset(
    path: Path, config: EvaluationConfig, *, content: bytes | None = None
) -> pd.DataFrame:
    """Read and structurally validate a dataset; a directory means "find it in there".

    ``content``: the file's bytes when the caller already read them (to hash them), so the
    file is not read twice; ``path`` then only names it and gives its type.
    """
    if path.is_dir():
        path = find_dataset(path)
    try:
        frame = _read(path, content)
    except EvaluationInputError:
        raise
    # BadZipFile/KeyError: a corrupt or truncated .xlsx package.
    except (
        OSError,
        ValueError,
        UnicodeDecodeError,
        pd.errors.ParserError,
        BadZipFile,
        KeyError,
    ) as exc:
        raise EvaluationInputError(path, f"cannot read the file: {exc}") from exc

    frame.columns = [str(c).strip() for c in frame.columns]
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise EvaluationInputError(path, "duplicate column", row=1, column=duplicated[0])
    missing = [c for c in required_columns(config) if c not in frame.columns]
    if missing:
        more = f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""
        raise EvaluationInputError(
            path, f"required column is missing{more}", row=1, column=missing[0]
        )

    frame = frame.astype("string")
    for col in frame.columns:
        frame[col] = frame[col].mask(frame[col].str.strip().fillna("") == "")
    empty_ids = frame[SAMPLE_ID].isna().to_numpy().nonzero()[0]
    if len(empty_ids):
        raise EvaluationInputError(
            path, "sample_id is empty", row=int(empty_ids[0]) + _FIRST_DATA_ROW, column=SAMPLE_ID
        )
    frame[ROW_COLUMN] = range(_FIRST_DATA_ROW, _FIRST_DATA_ROW + len(frame))
    return frame.reset_index(drop=True)
