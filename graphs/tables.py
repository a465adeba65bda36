"""Read tabular input files as Chinese users have them: CSV in UTF-8, UTF-8 with BOM or GBK/GB18030,
and Excel ``.xlsx`` sheets.

One reader for every table tanlu takes from users (operator line tables, audit trip records):
cells come back as stripped strings, and rows are numbered as a spreadsheet shows them (the
header is row 1), so errors can name file, row and field.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .errors import InputFileError

__all__ = ["DETECTED_ENCODINGS", "EXCEL_SUFFIXES", "FIRST_DATA_ROW", "TableFile", "read_table",
           "decode_text"]

#: Encodings tried in order when none is given. UTF-8 (a BOM is skipped) is strict, so a GBK
#: file fails it and is read as GB18030, the superset of GBK and GB2312 that Excel in China
#: writes ("ANSI" on a Chinese Windows). A UTF-8 file never decodes wrongly as UTF-8; a GBK
#: file that happens to be valid UTF-8 would need Chinese text forming valid UTF-8 sequences
#: throughout, which real files do not.
DETECTED_ENCODINGS = ("utf-8-sig", "gb18030")
#: Row number of the first data row (the header is row 1).
FIRST_DATA_ROW = 2
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True, eq=False)
class TableFile:
    """A table read from a file: string cells, the encoding used (``"xlsx"`` for Excel)."""

    path: Path
    frame: pd.DataFrame
    encoding: str


def read_table(path: str | os.PathLike, *, encoding: str | None = None,
               sheet: str | int = 0) -> TableFile:
    """Read a CSV or ``.xlsx`` table into string columns (stripped; empty cells are ``""``).

    Parameters
    ----------
    encoding
        Text encoding of a CSV; None tries :data:`DETECTED_ENCODINGS` in order.
    sheet
        Sheet name or index of an Excel workbook (the first sheet by default).

    Raises
    ------
    InputFileError
        If the file is missing, not decodable in the given (or any detected) encoding, not
        CSV, an unreadable workbook, or has duplicate column names.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file", path=str(path))
    if path.suffix.lower() in EXCEL_SUFFIXES:
        frame, used = _read_excel(path, sheet), "xlsx"
        header = [str(c) for c in _read_excel(path, sheet, header_only=True)]
    else:
        text, used = _decode(path, encoding)
        header = next(csv.reader(io.StringIO(text)), [])
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except pd.errors.EmptyDataError:
            raise InputFileError(f"{path}: the file is empty (a header row is needed)",
                                 path=str(path)) from None
        except pd.errors.ParserError as err:
            raise InputFileError(f"{path}: not a readable CSV table ({err})",
                                 path=str(path)) from err
    names = [c.strip() for c in header]
    duplicates = sorted({c for c in names if names.count(c) > 1})
    if duplicates or "" in names or any(c.startswith("Unnamed:") for c in frame.columns):
        raise InputFileError(f"{path}: duplicate or empty column names in the header row "
                             f"{duplicates or names}", path=str(path))
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.astype(str).apply(lambda column: column.str.strip())
    return TableFile(path=path, frame=frame.reset_index(drop=True), encoding=used)


def decode_text(path: str | os.PathLike, *, encoding: str | None = None,
                data: bytes | None = None) -> tuple[str, str]:
    """The text of a CSV file and the encoding used (:data:`DETECTED_ENCODINGS` when None).

    ``data`` are the file's bytes when the caller already has them (a decompressed ``.gz``);
    ``path`` then only names the file in errors. For readers that parse the text themselves
    (the audit's strict record parser) with the same encoding rules as :func:`read_table`.

    Raises
    ------
    InputFileError
        If the bytes are not valid in the given encoding (or in any detected one).
    """
    return _decode(Path(path), encoding, data)


def _decode(path: Path, encoding: str | None, data: bytes | None = None) -> tuple[str, str]:
    raw = path.read_bytes() if data is None else data
    if encoding is not None:
        try:
            name = codecs.lookup(encoding).name
        except LookupError:
            raise InputFileError(f"encoding {encoding!r} is not a known text encoding "
                                 "(e.g. utf-8, gb18030, gbk)", field="encoding") from None
        if name == "utf-8":
            name = "utf-8-sig"  # a BOM is never data
        try:
            return raw.decode(name), name
        except UnicodeDecodeError as err:
            raise InputFileError(f"{path}: not valid {encoding} at byte {err.start} "
                                 "(try another --encoding)", path=str(path),
                                 field="encoding") from err
    for name in DETECTED_ENCODINGS:
        try:
            return raw.decode(name), name
        except UnicodeDecodeError:
            continue
    raise InputFileError(f"{path}: neither UTF-8 nor GB18030/GBK text; give --encoding",
                         path=str(path), field="encoding")


def _read_excel(path: Path, sheet: str | int, *, header_only: bool = False):
    try:
        if header_only:
            top = pd.read_excel(path, sheet_name=sheet, header=None, nrows=1, dtype=str,
                                keep_default_na=False, engine="openpyxl")
            return top.iloc[0].tolist() if len(top) else []
        return pd.read_excel(path, sheet_name=sheet, dtype=str, keep_default_na=False,
                             engine="openpyxl")
    except (ValueError, KeyError, OSError) as err:
        raise InputFileError(f"{path}: not a readable .xlsx workbook or sheet {sheet!r} "
                             f"({err})", path=str(path)) from err
    except Exception as err:  # zipfile.BadZipFile and openpyxl's own errors
        if type(err).__module__.startswith(("zipfile", "openpyxl")):
            raise InputFileError(f"{path}: not a readable .xlsx workbook ({err})",
                                 path=str(path)) from err
        raise
