"""Excel workbooks (results, leaderboard) and the CSV issue report of the evaluation domain.

The results workbook has one sheet per field listing every dataset row, so 100k rows x 10 fields
means 1M sheet rows. openpyxl (write_only) and xlsxwriter (constant_memory) spend some 10 us of
Python per cell: 1.5 to 3.5 minutes for that size, measured. Here each sheet's XML is built
column-wise with pyarrow compute kernels instead and zipped at deflate level 1: a few seconds.
The package written is the minimal valid one (content types, workbook, styles, worksheets with
inline strings, as xlsxwriter's constant_memory mode writes them). Every file is written to a
temporary in the same folder and then renamed, so readers see the previous file or the new one,
never half of one.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
import os
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lexi_pipelines.common.files import write_text_atomically
from lexi_pipelines.common.markdown import markdown_table
from lexi_pipelines.evaluation.config import EvaluationConfig, FieldConfig, MetricMinimums
from lexi_pipelines.evaluation.dataset import DOCUMENT_ID, ROW_COLUMN, SAMPLE_ID, golden, predicted
from lexi_pipelines.evaluation.matching import preprocess
from lexi_pipelines.evaluation.metrics import EvaluationResult, Metrics
from lexi_pipelines.evaluation.quality import Issue

SUMMARY_SHEET = "Summary"
LEADERBOARD_SHEET = "Leaderboard"
PER_FIELD_SHEET = "Per field"
OVERALL_LABEL = "overall (micro)"
ISSUE_COLUMNS = ("severity", "check", "field", "row", "rule", "value", "message")
# Row outcome labels; a wrong value counts as both FP and FN in metrics.py.
OUTCOME_LABELS = ("TP", "FP", "FN", "FP+FN", "TN")

_MAX_SHEET_NAME = 31
_MAX_ROWS = 1_048_576
_MAX_TEXT = 32_767
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
# Characters XML 1.0 cannot carry at all; they are dropped from cell text.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ILLEGAL_XML_RE2 = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"
_EDGE_SPACE_RE2 = r"^[ \t\r\n]|[ \t\r\n]$"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_EXCEL_EPOCH = datetime(1899, 12, 30)

# Cell styles: indexes into cellXfs of _STYLES.
_PLAIN, _BOLD, _PERCENT, _DATETIME, _BOLD_PERCENT = range(5)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_FONT = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
_STYLES = (
    f"{_XML_DECL}<styleSheet {_NS}>"
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    f'<fonts count="2"><font>{_FONT}</font><font><b/>{_FONT}</font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="10" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"'
    ' applyNumberFormat="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    # dxf 0: Excel's "light red fill with dark red text", for rows the model got wrong.
    '<dxfs count="1"><dxf><font><color rgb="FF9C0006"/></font>'
    '<fill><patternFill><bgColor rgb="FFFFC7CE"/></patternFill></fill></dxf></dxfs>'
    '<tableStyles count="0"/></styleSheet>'
)


# --- sheet names -------------------------------------------------------------------------------


def safe_sheet_names(wanted: Iterable[str], reserved: Iterable[str] = ()) -> list[str]:
    """Excel-valid, unique (case-insensitively, also against ``reserved``) sheet names.

    Excel allows at most 31 characters, none of ``[]:*?/\\``, no leading or trailing apostrophe,
    and reserves "History"; clashes get a " (2)", " (3)"... suffix within the 31 characters.
    """
    used = {name.casefold() for name in reserved} | {"history"}
    out: list[str] = []
    for raw in wanted:
        base = _BAD_SHEET_CHARS.sub("_", raw).strip().strip("'")[:_MAX_SHEET_NAME]
        base = base.strip().strip("'") or "sheet"
        name, n = base, 2
        while name.casefold() in used:
            suffix = f" ({n})"
            name = base[: _MAX_SHEET_NAME - len(suffix)].rstrip().rstrip("'") + suffix
            n += 1
        used.add(name.casefold())
        out.append(name)
    return out


# --- cell and sheet XML ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Styled:
    value: Any
    style: int


def _col(index: int) -> str:
    """0-based column index to its letters (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _ref(col: int, row: int, *, absolute: bool = False) -> str:
    dollar = "$" if absolute else ""
    return f"{dollar}{_col(col)}{dollar}{row}"


def _naive_utc(value: datetime) -> datetime:
    # Excel has no time zones: aware values are shown in UTC, naive ones are taken as UTC.
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _serial(value: date) -> float:
    if isinstance(value, datetime):
        return (_naive_utc(value) - _EXCEL_EPOCH).total_seconds() / 86400
    return float((value - _EXCEL_EPOCH.date()).days)


def _text_element(text: str) -> str:
    text = escape(_ILLEGAL_XML.sub("", text)[:_MAX_TEXT])
    edge = text[:1] in " \t\r\n" or text[-1:] in " \t\r\n"
    return f'<t xml:space="preserve">{text}</t>' if text and edge else f"<t>{text}</t>"


def _cell(ref: str, value: Any) -> str:
    style = _PLAIN
    if isinstance(value, _Styled):
        value, style = value.value, value.style
    if value is pd.NaT:
        value = None
    if isinstance(value, datetime | date):
        value, style = _serial(value), style or _DATETIME
    attrs = f'r="{ref}"' + (f' s="{style}"' if style else "")
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f"<c {attrs}/>" if style else ""
    if isinstance(value, bool | np.bool_):
        return f'<c {attrs} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, numbers.Integral):
        return f"<c {attrs}><v>{int(value)}</v></c>"
    if isinstance(value, numbers.Real):
        return f"<c {attrs}><v>{float(value)!r}</v></c>"
    return f'<c {attrs} t="inlineStr"><is>{_text_element(str(value))}</is></c>'


def _rows_xml(rows: Sequence[Sequence[Any]], first_row: int = 1) -> bytes:
    lines = []
    for r, values in enumerate(rows, start=first_row):
        cells = "".join(_cell(_ref(c, r), v) for c, v in enumerate(values))
        if cells:
            lines.append(f'<row r="{r}">{cells}</row>')
    return "".join(lines).encode("utf-8")


def _display_width(value: Any) -> int:
    if isinstance(value, _Styled):
        if value.value is None:
            return 0
        return 8 if value.style in (_PERCENT, _BOLD_PERCENT) else _display_width(value.value)
    if value is None:
        return 0
    if isinstance(value, datetime):
        return 19
    if isinstance(value, float):
        return min(len(f"{value:.6g}"), 12)
    return len(str(value))


def _width(chars: int) -> float:
    return float(min(max(chars + 2, 8), 60))


def _widths(rows: Sequence[Sequence[Any]]) -> list[float]:
    n = max((len(r) for r in rows), default=0)
    return [_width(max(_display_width(r[c]) for r in rows if c < len(r))) for c in range(n)]


@dataclass(frozen=True)
class _Sheet:
    name: str
    n_rows: int
    n_cols: int
    widths: Sequence[float]
    # The sheet's <row> elements, in chunks; called only when the sheet is written, so that at
    # most one large sheet body is in memory at a time.
    render: Callable[[], list[bytes | memoryview]]
    freeze_rows: int = 0
    # (first row, last row) of the autofilter range over all columns.
    filter_rows: tuple[int, int] | None = None
    # (first data row, formula for that row) of the "model got it wrong" highlight.
    highlight: tuple[int, str] | None = None

    def filter_ref(self, *, absolute: bool = False) -> str | None:
        if self.filter_rows is None:
            return None
        first, last = self.filter_rows
        end = _ref(self.n_cols - 1, last, absolute=absolute)
        return f"{_ref(0, first, absolute=absolute)}:{end}"


def _sheet_head_tail(sheet: _Sheet, selected: bool) -> tuple[bytes, bytes]:
    last = _ref(max(sheet.n_cols - 1, 0), max(sheet.n_rows, 1))
    view = ' tabSelected="1"' if selected else ""
    if sheet.freeze_rows:
        top = _ref(0, sheet.freeze_rows + 1)
        pane = (
            f'<pane ySplit="{sheet.freeze_rows}" topLeftCell="{top}" activePane="bottomLeft"'
            ' state="frozen"/><selection pane="bottomLeft"/>'
        )
        views = f'<sheetView{view} workbookViewId="0">{pane}</sheetView>'
    else:
        views = f'<sheetView{view} workbookViewId="0"/>'
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
        for i, w in enumerate(sheet.widths, start=1)
    )
    head = (
        f'{_XML_DECL}<worksheet {_NS} {_NS_R}><dimension ref="A1:{last}"/>'
        f'<sheetViews>{views}</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        + (f"<cols>{cols}</cols>" if cols else "")
        + "<sheetData>"
    )
    tail = "</sheetData>"
    if (ref := sheet.filter_ref()) is not None:
        tail += f'<autoFilter ref="{ref}"/>'
    if sheet.highlight is not None and sheet.n_rows >= sheet.highlight[0]:
        first, formula = sheet.highlight
        area = f"{_ref(0, first)}:{_ref(sheet.n_cols - 1, sheet.n_rows)}"
        tail += (
            f'<conditionalFormatting sqref="{area}"><cfRule type="expression" dxfId="0"'
            f' priority="1"><formula>{escape(formula)}</formula></cfRule></conditionalFormatting>'
        )
    tail += (
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3"'
        ' footer="0.3"/></worksheet>'
    )
    return head.encode("utf-8"), tail.encode("utf-8")


def _quoted_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _package_parts(sheets: Sequence[_Sheet]) -> dict[str, str]:
    entries = "".join(
        f'<sheet name={quoteattr(s.name)} sheetId="{i}" r:id="rId{i}"/>'
        for i, s in enumerate(sheets, start=1)
    )
    filters = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"{escape(_quoted_sheet(s.name))}!{s.filter_ref(absolute=True)}</definedName>"
        for i, s in enumerate(sheets)
        if s.filter_rows is not None
    )
    workbook = (
        f'{_XML_DECL}<workbook {_NS} {_NS_R}><bookViews><workbookView activeTab="0"/>'
        f"</bookViews><sheets>{entries}</sheets>"
        + (f"<definedNames>{filters}</definedNames>" if filters else "")
        + "</workbook>"
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    styles_id = len(sheets) + 1
    rels += f'<Relationship Id="rId{styles_id}" Type="{_REL}/styles" Target="styles.xml"/>'
    package_rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    types = (
        f'{_XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>{overrides}</Types>'
    )
    return {
        "[Content_Types].xml": types,
        "_rels/.rels": (
            f'{_XML_DECL}<Relationships xmlns="{package_rels}"><Relationship Id="rId1"'
            f' Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": (
            f'{_XML_DECL}<Relationships xmlns="{package_rels}">{rels}</Relationships>'
        ),
        "xl/styles.xml": _STYLES,
    }


@contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary beside ``path`` that replaces it only when the block finishes cleanly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _entry(name: str) -> zipfile.ZipInfo:
    # A fixed timestamp: the same content gives the same bytes (re-runs change no file).
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    # The fastest level (the sheets are large). Python 3.13 names the attribute compress_level;
    # 3.11 and 3.12 read _compresslevel.
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", 1)
    return info


def _write_xlsx(path: Path, sheets: Sequence[_Sheet]) -> Path:
    with (
        _replacing(path) as temporary,
        zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
    ):
        for name, text in _package_parts(sheets).items():
            zf.writestr(_entry(name), text)
        for i, sheet in enumerate(sheets):
            head, tail = _sheet_head_tail(sheet, selected=i == 0)
            chunks = [head, *sheet.render(), tail]
            size = sum(len(chunk) for chunk in chunks)
            entry = _entry(f"xl/worksheets/sheet{i + 1}.xml")
            with zf.open(entry, "w", force_zip64=size >= zipfile.ZIP64_LIMIT) as out:
                for chunk in chunks:
                    out.write(chunk)
    return path


# --- column-wise cells for the large per-field sheets -------------------------------------------


def _large(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


def _join(*parts: Any) -> pa.Array:
    """Element-wise concatenation of string arrays and constant strings (null if any is null)."""
    args = [_large(p) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*args, _large(""))


def _arrow_text(values: pd.Series) -> pa.Array:
    array = pa.array(values.astype("string"), type=pa.large_string(), from_pandas=True)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _text_cells(col: int, rows: pa.Array, values: pa.Array) -> pa.Array:
    """``<c>`` elements with inline strings; a null value gives no cell at all."""
    text = pc.utf8_slice_codeunits(
        pc.replace_substring_regex(values, _ILLEGAL_XML_RE2, ""), 0, _MAX_TEXT
    )
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = pc.replace_substring(text, raw, entity)
    edge = pc.match_substring_regex(text, _EDGE_SPACE_RE2)
    open_t = pc.if_else(edge, _large('<t xml:space="preserve">'), _large("<t>"))
    cells = _join(f'<c r="{_col(col)}', rows, '" t="inlineStr"><is>', open_t, text, "</t></is></c>")
    return pc.fill_null(cells, _large(""))


def _number_cells(col: int, rows: pa.Array, numbers_text: pa.Array) -> pa.Array:
    return _join(f'<c r="{_col(col)}', rows, '"><v>', numbers_text, "</v></c>")


def _bool_cells(col: int, rows: pa.Array, flags: np.ndarray) -> pa.Array:
    values = pa.array(np.where(flags, "1", "0"), type=pa.large_string())
    return _join(f'<c r="{_col(col)}', rows, '" t="b"><v>', values, "</v></c>")


def _concatenated(rows: pa.Array) -> memoryview | bytes:
    """All strings of a null-free large_string array back to back: its data buffer, no copy."""
    if len(rows) == 0:
        return b""
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)
    start, end = offsets[rows.offset], offsets[rows.offset + len(rows)]
    return memoryview(rows.buffers()[2])[start:end]


def _max_chars(values: pa.Array) -> int:
    longest = pc.max(pc.utf8_length(values)).as_py()
    return int(longest or 0)


# --- results workbook --------------------------------------------------------------------------


def row_outcomes(
    frame: pd.DataFrame, name: str, cfg: FieldConfig, matched: np.ndarray
) -> np.ndarray:
    """Per row one of :data:`OUTCOME_LABELS`, counted exactly as :mod:`.metrics` counts them."""
    g = preprocess(frame[golden(name)], cfg).notna().to_numpy(dtype=bool)
    p = preprocess(frame[predicted(name)], cfg).notna().to_numpy(dtype=bool)
    tp = np.asarray(matched, dtype=bool) & g & p
    return np.select([tp, g & p, p, g], ["TP", "FP+FN", "FP", "FN"], default="TN")


def _percent(value: float | None, *, bold: bool = False) -> _Styled:
    return _Styled(value, _BOLD_PERCENT if bold else _PERCENT)


def _threshold_lines(config: EvaluationConfig) -> list[list[Any]]:
    lines: list[list[Any]] = []
    tiers: list[tuple[str, MetricMinimums]] = [
        ("autonomous", config.thresholds.autonomous),
        ("human_in_loop", config.thresholds.human_in_loop),
    ]
    for tier, minimums in tiers:
        set_ = {k: v for k, v in minimums.model_dump().items() if v is not None}
        if not set_:
            lines.append([f"{tier}: minimums", "none (always met)"])
        for metric, minimum in set_.items():
            lines.append([f"{tier}: minimum {metric}", _percent(minimum)])
    return lines


def _metrics_row(label: str, strategy: str | None, m: Metrics, *, bold: bool = False) -> list[Any]:
    first = _Styled(label, _BOLD) if bold else label
    counts: list[Any] = [m.tp, m.fp, m.fn, m.tn]
    rates = [_percent(m.accuracy, bold=bold), _percent(m.precision, bold=bold)]
    rates += [_percent(m.recall, bold=bold), _percent(m.f1, bold=bold)]
    return [first, strategy, *counts, *rates]


_SUMMARY_COLUMNS = ["field", "strategy", "TP", "FP", "FN", "TN"]
_SUMMARY_COLUMNS += ["accuracy", "precision", "recall", "F1"]


def _summary_sheet(
    *,
    use_case: str,
    model: str,
    dataset_file: str,
    dataset_hash: str,
    rows: int,
    config: EvaluationConfig,
    result: EvaluationResult,
    generated_at: datetime,
) -> _Sheet:
    header: list[list[Any]] = [
        ["use case", use_case],
        ["model", model],
        ["dataset file", dataset_file],
        ["dataset sha256", dataset_hash],
        ["rows", rows],
        ["generated at (UTC)", generated_at],
        ["decision", _Styled(result.decision, _BOLD)],
        *_threshold_lines(config),
    ]
    labels = [[_Styled(line[0], _BOLD), *line[1:]] for line in header]
    table_header = [_Styled(c, _BOLD) for c in _SUMMARY_COLUMNS]
    fields = [
        _metrics_row(name, config.fields[name].strategy, m) for name, m in result.per_field.items()
    ]
    overall = _metrics_row(OVERALL_LABEL, None, result.overall, bold=True)
    all_rows = [*labels, [], table_header, *fields, overall]
    header_row = len(labels) + 2
    # Labels size column A; the long header values (sha256) may overflow into empty cells.
    widths = _widths([[line[0]] for line in header] + [_SUMMARY_COLUMNS, *fields, overall])
    body = _rows_xml(all_rows)
    return _Sheet(
        name=SUMMARY_SHEET,
        n_rows=len(all_rows),
        n_cols=len(_SUMMARY_COLUMNS),
        widths=widths,
        render=lambda: [body],
        freeze_rows=header_row,
        # The overall row stays outside the filter so sorting keeps it at the bottom.
        filter_rows=(header_row, header_row + len(fields)),
    )


@dataclass(frozen=True)
class _SharedColumns:
    """The row/id/scenario cells every per-field sheet starts with, built once."""

    headers: list[str]
    widths: list[float]
    rows: pa.Array  # row numbers of the sheet, as text
    prefix: pa.Array  # '<row r="n">' plus the shared cells


def _shared_columns(frame: pd.DataFrame, config: EvaluationConfig) -> _SharedColumns:
    n = len(frame)
    if n + 1 > _MAX_ROWS:
        raise ValueError(f"{n} rows do not fit in an Excel sheet ({_MAX_ROWS - 1} at most)")
    rows = pc.cast(pa.array(np.arange(2, n + 2)), pa.large_string())
    dataset_rows = pc.cast(pa.array(frame[ROW_COLUMN].to_numpy(dtype=np.int64)), pa.large_string())
    text_columns = [SAMPLE_ID]
    if DOCUMENT_ID in frame.columns:
        text_columns.append(DOCUMENT_ID)
    text_columns += [c for c in config.scenario_columns if c not in text_columns]
    cells = [_number_cells(0, rows, dataset_rows)]
    widths = [_width(max(3, _max_chars(dataset_rows)))]
    for col, name in enumerate(text_columns, start=1):
        values = _arrow_text(frame[name])
        cells.append(_text_cells(col, rows, values))
        widths.append(_width(max(len(name), _max_chars(values))))
    prefix = _join('<row r="', rows, '">', *cells)
    return _SharedColumns(["row", *text_columns], widths, rows, prefix)


def _field_sheet(
    sheet_name: str,
    shared: _SharedColumns,
    frame: pd.DataFrame,
    field: str,
    cfg: FieldConfig,
    matched: np.ndarray,
) -> _Sheet:
    headers = [*shared.headers, "golden", "predicted", "match", "outcome"]
    first = len(shared.headers)
    golden_text = _arrow_text(frame[golden(field)])
    predicted_text = _arrow_text(frame[predicted(field)])
    widths = [
        *shared.widths,
        _width(max(6, _max_chars(golden_text))),
        _width(max(9, _max_chars(predicted_text))),
        _width(5),
        _width(7),
    ]
    outcome_ref = f"${_col(first + 3)}2"
    wrong = f'OR({outcome_ref}="FP",{outcome_ref}="FN",{outcome_ref}="FP+FN")'

    def render() -> list[bytes | memoryview]:
        outcomes = pa.array(row_outcomes(frame, field, cfg, matched), type=pa.large_string())
        rows = shared.rows
        body = _join(
            shared.prefix,
            _text_cells(first, rows, golden_text),
            _text_cells(first + 1, rows, predicted_text),
            _bool_cells(first + 2, rows, matched),
            _text_cells(first + 3, rows, outcomes),
            "</row>",
        )
        return [_rows_xml([[_Styled(h, _BOLD) for h in headers]]), _concatenated(body)]

    return _Sheet(
        name=sheet_name,
        n_rows=len(frame) + 1,
        n_cols=len(headers),
        widths=widths,
        render=render,
        freeze_rows=1,
        filter_rows=(1, len(frame) + 1),
        highlight=(2, wrong),
    )


def write_results_workbook(
    path: Path,
    *,
    use_case: str,
    model: str,
    dataset_file: str,
    dataset_hash: str,
    frame: pd.DataFrame,
    config: EvaluationConfig,
    result: EvaluationResult,
    generated_at: datetime,
) -> Path:
    """Summary sheet plus one sheet per configured field listing every row and its outcome.

    ``match`` is the strategy's verdict (false whenever a value is missing); ``outcome`` is what
    the row counts as in the metrics, and rows counted as FP and/or FN are highlighted.
    """
    summary = _summary_sheet(
        use_case=use_case,
        model=model,
        dataset_file=dataset_file,
        dataset_hash=dataset_hash,
        rows=len(frame),
        config=config,
        result=result,
        generated_at=generated_at,
    )
    shared = _shared_columns(frame, config)
    names = safe_sheet_names(config.fields, reserved=[SUMMARY_SHEET])
    sheets = [summary]
    for sheet_name, (field, cfg) in zip(names, config.fields.items(), strict=True):
        matched = result.matches[field].to_numpy(dtype=bool)
        sheets.append(_field_sheet(sheet_name, shared, frame, field, cfg, matched))
    return _write_xlsx(path, sheets)


# --- leaderboard -------------------------------------------------------------------------------


def ranked(rows: Sequence[dict[str, Any]]) -> list[tuple[int | None, dict[str, Any]]]:
    """Models by F1 then accuracy, best first (equal scores share a rank); then the models
    without results (no F1), by name, with no rank."""

    def score(row: dict[str, Any]) -> tuple[float, float]:
        return float(row["f1"]), float(row.get("accuracy") or 0.0)

    scored = sorted(
        (r for r in rows if r.get("f1") is not None),
        key=lambda r: (-score(r)[0], -score(r)[1], str(r["model"])),
    )
    out: list[tuple[int | None, dict[str, Any]]] = []
    rank, previous = 0, None
    for position, row in enumerate(scored, start=1):
        if score(row) != previous:
            rank, previous = position, score(row)
        out.append((rank, row))
    unscored = sorted((r for r in rows if r.get("f1") is None), key=lambda r: str(r["model"]))
    out += [(None, row) for row in unscored]
    return out


_LEADERBOARD_COLUMNS = ["rank", "model", "state", "decision", "rows", "F1", "accuracy"]
_LEADERBOARD_COLUMNS += ["precision", "recall", "evaluated at (UTC)", "dataset sha256"]
_OVERALL_METRICS = ("f1", "accuracy", "precision", "recall")


def _field_metric(row: dict[str, Any], field: str, metric: str) -> Any:
    return (row.get("per_field") or {}).get(field, {}).get(metric)


def _simple_sheet(
    name: str, header: list[str], body: list[list[Any]], footer: Sequence[list[Any]] = ()
) -> _Sheet:
    """A header row, a filterable body, and footer lines below the filter range."""
    table = [[_Styled(h, _BOLD) for h in header], *body]
    xml = _rows_xml([*table, *footer])
    return _Sheet(
        name=name,
        n_rows=len(table) + len(footer),
        n_cols=len(header),
        widths=_widths([header, *body]),
        render=lambda: [xml],
        freeze_rows=1,
        filter_rows=(1, len(table)),
    )


def write_leaderboard_workbook(
    path: Path,
    *,
    use_case: str,
    rows: list[dict[str, Any]],
    fields: list[str],
    generated_at: datetime,
) -> Path:
    """Sheets "Leaderboard" (overall metrics per model) and "Per field" (F1 and accuracy)."""
    order = ranked(rows)
    board = [
        [
            rank,
            row["model"],
            row.get("state"),
            row.get("decision"),
            row.get("rows"),
            *(_percent(row.get(m)) for m in _OVERALL_METRICS),
            row.get("evaluated_at"),
            row.get("dataset_hash"),
        ]
        for rank, row in order
    ]
    footer = [[], [_Styled("use case", _BOLD), use_case]]
    footer.append([_Styled("generated at (UTC)", _BOLD), generated_at])
    leaderboard = _simple_sheet(LEADERBOARD_SHEET, _LEADERBOARD_COLUMNS, board, footer)
    per_field_header = ["rank", "model"]
    for field in fields:
        per_field_header += [f"{field} F1", f"{field} accuracy"]
    per_field = [
        [rank, row["model"]]
        + [
            _percent(_field_metric(row, field, metric))
            for field in fields
            for metric in ("f1", "accuracy")
        ]
        for rank, row in order
    ]
    sheets = [leaderboard, _simple_sheet(PER_FIELD_SHEET, per_field_header, per_field)]
    return _write_xlsx(path, sheets)


def _percent_text(value: float | None) -> str:
    return "" if value is None else f"{value:.2%}"


def _when(value: datetime | None) -> str:
    return "" if value is None else f"{_naive_utc(value):%Y-%m-%d %H:%M} UTC"


def leaderboard_markdown(rows: list[dict[str, Any]], fields: list[str]) -> str:
    """The leaderboard as a markdown table (all models, ranked) for Dagster metadata."""
    table: list[dict[str, Any]] = []
    for rank, row in ranked(rows):
        line: dict[str, Any] = {
            "rank": rank,
            "model": row["model"],
            "state": row.get("state"),
            "decision": row.get("decision"),
            "F1": _percent_text(row.get("f1")),
            "accuracy": _percent_text(row.get("accuracy")),
            "precision": _percent_text(row.get("precision")),
            "recall": _percent_text(row.get("recall")),
        }
        for field in fields:
            line[f"F1 {field}"] = _percent_text(_field_metric(row, field, "f1"))
        line["evaluated at"] = _when(row.get("evaluated_at"))
        table.append(line)
    return markdown_table(table, limit=max(len(table), 1))


# --- issue report ------------------------------------------------------------------------------


def _csv_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV injection);
    numbers such as -1 stay as they are."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def write_issue_report(path: Path, issues: Sequence[Issue]) -> Path:
    """The quality issues as CSV, UTF-8 with a byte order mark so that Excel reads it right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(ISSUE_COLUMNS)
    for issue in issues:
        writer.writerow(_csv_cell(getattr(issue, column)) for column in ISSUE_COLUMNS)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, "\ufeff" + buffer.getvalue())
    return path
