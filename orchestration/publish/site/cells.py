"""Table cells as the site prints them: one formatting rule per kind of figure, suppression shown as such.

A suppressed cell prints HIDDEN (never a number, never blank); a figure that does not exist (a rate without
eligible cases) prints NO_VALUE. Tables are plain data (Table, Row, Cell) that the templates lay out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

HIDDEN = "hidden"
NO_VALUE = "–"
HIDDEN_TITLE = ("suppressed: a count from 1 to 10, a cell hidden so that such a count cannot be worked out, or a "
                "figure derived from one")


@dataclass(frozen=True)
class Cell:
    text: str
    kind: str = "text"  # text, count, pct, money, date: how it aligns and how a reader compares it
    hidden: bool = False
    href: str | None = None


@dataclass(frozen=True)
class Row:
    key: str
    cells: list[Cell]


@dataclass
class Table:
    columns: list[tuple[str, str]]  # (column id, heading)
    rows: list[Row] = field(default_factory=list)
    empty: str = "No rows."
    note: str = ""


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _hidden(row: Mapping, column: str) -> bool:
    flag = row.get(f"{column}_suppressed")
    return bool(flag) if not _missing(flag) else False


def fmt_count(value) -> str:
    return NO_VALUE if _missing(value) else f"{int(value):,}"


def fmt_pct(value) -> str:
    return NO_VALUE if _missing(value) else f"{float(value):.2f}%"


def fmt_money(value) -> str:
    return NO_VALUE if _missing(value) else f"${float(value):,.2f}"


def fmt_date(value) -> str:
    return NO_VALUE if _missing(value) else str(value)[:10]


FORMATS = {"count": fmt_count, "pct": fmt_pct, "money": fmt_money, "date": fmt_date,
           "text": lambda v: NO_VALUE if _missing(v) else str(v)}


def cell(row: Mapping, column: str, kind: str = "count") -> Cell:
    """One published figure: HIDDEN when its _suppressed flag is set, else formatted by kind."""
    if _hidden(row, column):
        return Cell(HIDDEN, kind, hidden=True)
    return Cell(FORMATS[kind](row[column]), kind)


def text(value, href: str | None = None) -> Cell:
    return Cell(FORMATS["text"](value), "text", href=href)


def table_of(rows: Iterable[Mapping], key: str | Iterable[str], columns: list[tuple[str, str, str]],
             empty: str, note: str = "") -> Table:
    """`rows` as a Table; columns are (column, heading, kind); `key` names the column(s) of a row's key."""
    keys = [key] if isinstance(key, str) else list(key)
    table = Table([(c, heading) for c, heading, _ in columns], empty=empty, note=note)
    for row in rows:
        cells = [text(row[c]) if kind == "text" else cell(row, c, kind) for c, _, kind in columns]
        table.rows.append(Row("|".join(str(row[k]) for k in keys), cells))
    return table


def hidden_range(total, total_hidden: bool, visible: list[int], hidden_cells: int) -> tuple[int, int] | None:
    """What a reader can work out about each of `hidden_cells` hidden counts of an additive set whose published
    total is `total` and whose visible members are `visible`: every hidden count is at least 1 (zero is never
    hidden) and at most what the total leaves for it. None when the total is hidden too."""
    if total_hidden or _missing(total) or hidden_cells == 0:
        return None
    left = int(total) - sum(visible)
    return 1, max(1, left - (hidden_cells - 1))
