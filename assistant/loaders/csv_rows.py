"""Row-level reading of a delimited message export: every data row is kept whole, or reported, never merged.

The csv module alone is silently lenient: an unclosed quote swallows every following line into one field, an
unquoted delimiter shifts the rest of a row into the next column, and one field over its 128 KB default limit
aborts the whole file. `read_rows` feeds the reader one physical line at a time, so it knows which lines each
record consumed, and checks every record:

- its cell count must equal the header's (an unquoted delimiter adds cells, a cut row loses some);
- no field may hold a newline followed by a line that is itself a complete row (same cell count as the header and
  a timestamp in the timestamp column): that is a message swallowed by an unclosed quote;
- a quote still open at the end of the file is reported;
- a field over `FIELD_CAP_CHARS` is reported (only its row is lost, no longer the whole file).

A bad record is reported with its data-row number, its first line number and the reason; reading resumes at the
first swallowed row inside it (or after it), so the rows it had swallowed are read as the rows they are.
Reasons never contain cell text.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

# One cell may hold at most 128 Ki characters (the csv module's own default, now applied per row instead of to the
# whole file). Measured by benchmarks/bench_csv_rows.py: chunking stores every part's message record with the whole
# body, so one message of n characters costs about n^2/800 bytes of chunk metadata (64 Ki: 5 MB, 128 Ki: 21 MB,
# 256 Ki: 84 MB, 1 Mi: 1.3 GB). Raise the cap only once each part's record carries its own slice.
FIELD_CAP_CHARS = 1 << 17

_LINE_ENDS = re.compile(r"(?<=\n)|(?<=\r)(?!\n)")  # after \n, \r\n or a lone \r, keeping the ends (as newline="")

Row = dict[str, str]


@dataclass(frozen=True)
class BadRow:
    number: int  # 1-based data row (blank lines not counted)
    line: int  # 1-based physical line where the row starts
    reason: str

    def note(self) -> str:
        return f"bad row {self.number} (line {self.line}) not ingested: {self.reason}"


@dataclass
class CsvRows:
    names: list[str]
    rows: list[tuple[int, Row]] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


class _Lines:
    """An iterator over physical lines whose position can be moved back, so reading can resume at any line."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.pos = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def split_lines(text: str) -> list[str]:
    return [line for line in _LINE_ENDS.split(text) if line]


def read_rows(text: str, delimiter: str, is_timestamp: Callable[[str], bool]) -> CsvRows | None:
    """Header and checked data rows of `text`; None when there is no header row (only blank lines)."""
    if csv.field_size_limit() < FIELD_CAP_CHARS:  # process-wide; only ever raised, to the stated cap
        csv.field_size_limit(FIELD_CAP_CHARS)
    lines = _Lines(split_lines(text))
    reader = csv.reader(lines, delimiter=delimiter)
    header: list[str] | None = None
    while header is None:
        try:
            record = next(reader)
        except StopIteration:
            return None
        except csv.Error:
            continue  # a broken line before the header: keep looking for the header
        if any(cell.strip() for cell in record):
            header = record
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    result = CsvRows(names=names)
    ts_index = names.index("timestamp") if "timestamp" in names else -1

    def is_row_start(line: str) -> bool:
        cells = next(csv.reader([line], delimiter=delimiter), [])
        return ts_index >= 0 and len(cells) == len(names) and is_timestamp(cells[ts_index].strip())

    number = 0
    while True:
        start = lines.pos
        error = ""
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # the reader stopped mid-record: resume at the next complete row
            record, error = [], _csv_reason(exc)
            resume = next((i for i in range(start + 1, len(lines.lines)) if is_row_start(lines.lines[i])),
                          len(lines.lines))
            lines.pos = resume
            if resume - start > 1:
                error += f" (lines {start + 1}-{resume} skipped)"
        if not error and not any(cell.strip() for cell in record):
            continue
        number += 1
        consumed = lines.lines[start:lines.pos]
        swallowed = next((i for i in range(1, len(consumed)) if is_row_start(consumed[i])), 0)
        if not error and swallowed:
            error = (f"a field runs over {swallowed} line(s) into a new row (line {start + swallowed + 1}): "
                     "probably an unclosed quote; that row and the ones after it are read on their own")
        elif not error and lines.pos == len(lines.lines) and _quote_open_at_end("".join(consumed), delimiter):
            error = "unclosed quote: a quoted field is still open at the end of the file"
        elif not error and len(record) != len(names):
            error = f"{len(record)} cells where the header has {len(names)} (a delimiter inside an unquoted field?)"
        if error:
            result.bad.append(BadRow(number, start + 1, error))
            if swallowed:
                lines.pos = start + swallowed
            continue
        result.rows.append((number, dict(zip(names, record, strict=True))))
    return result


def _csv_reason(exc: csv.Error) -> str:
    message = str(exc)
    if "field limit" in message:
        return f"a field is longer than the cap of {FIELD_CAP_CHARS:,} characters"
    return f"malformed CSV: {message}"


def _quote_open_at_end(raw: str, delimiter: str, quote: str = '"') -> bool:
    """True when `raw` (one record's lines) ends inside a quoted field, following the csv module's own rules:
    a quote opens a field only at the field's start, and two quotes inside a quoted field are one literal quote."""
    in_quotes = pending_close = False
    at_field_start = True
    for char in raw:
        if in_quotes:
            if pending_close:
                pending_close = False
                if char == quote:
                    continue  # "" inside quotes: a literal quote
                in_quotes = False
            elif char == quote:
                pending_close = True
                continue
            else:
                continue
        if char == quote and at_field_start:
            in_quotes, at_field_start = True, False
        else:
            at_field_start = char in (delimiter, "\n", "\r")
    return in_quotes and not pending_close


def bad_row_notes(bad: list[BadRow], limit: int = 100) -> list[str]:
    """One note per bad row, up to `limit`; the rest in one note that still lists every row number."""
    notes = [row.note() for row in bad[:limit]]
    if len(bad) > limit:
        numbers = ", ".join(str(row.number) for row in bad[limit:])
        notes.append(f"{len(bad) - limit} more bad rows not ingested: rows {numbers}")
    return notes
