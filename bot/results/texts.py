"""The results night's Vietnamese strings: ballot names and the import's messages.

Like `bot/texts.py`: functions here only format plain values into marked text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot import texts as base_texts
from bot.formatting import vn_int
from bot.messaging.marked import without_markers
from bot.results.model import Ballot
from bot.texts import NO, OK, WARN


class ResultsIssueLike(Protocol):
    """What the texts read of an import issue (`bot.results.imports.ResultsIssue`)."""

    @property
    def file(self) -> str: ...
    @property
    def sheet(self) -> str | None: ...
    @property
    def line(self) -> int | None: ...
    @property
    def column(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def value(self) -> str | None: ...
    @property
    def electoral_unit(self) -> str | None: ...
    @property
    def related_lines(self) -> tuple[int, ...]: ...
    @property
    def is_warning(self) -> bool: ...


# The ballot as a heading says it ("HĐND xã: bầu được 1.952/2.019").
BALLOT_LABELS: dict[Ballot, str] = {
    Ballot.QH: "Quốc hội",
    Ballot.TINH: "HĐND tỉnh",
    Ballot.HUYEN: "HĐND huyện",
    Ballot.XA: "HĐND xã",
}

# The ballot in full, as the official records name it.
BALLOT_FULL_NAMES: dict[Ballot, str] = {
    Ballot.QH: "đại biểu Quốc hội",
    Ballot.TINH: "đại biểu Hội đồng nhân dân tỉnh",
    Ballot.HUYEN: "đại biểu Hội đồng nhân dân huyện",
    Ballot.XA: "đại biểu Hội đồng nhân dân xã",
}


def ballot_label(ballot: Ballot) -> str:
    return BALLOT_LABELS[ballot]


# -- the import of the ballot files -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """What an import of the ballot files brought."""

    ballots: tuple[Ballot, ...]
    electoral_units: int
    candidates: int
    area_ballots: int


_ISSUES = {
    "unknown_file": (
        "không nhận ra tệp: tên tệp hoặc dòng tiêu đề phải cho biết đây là electoral_units, "
        "candidates hay area_ballots (CSV hoặc Excel .xlsx)"
    ),
    "duplicate_file": "lần nhập này đã có một tệp cùng loại («{value}»)",
    "no_sheets": "tệp Excel không có trang nào tên electoral_units, candidates hoặc area_ballots",
    "xlsx_unreadable": "không đọc được tệp Excel (.xlsx): tệp hỏng hoặc không phải .xlsx",
    "xlsx_too_large": "tệp Excel quá lớn (tối đa 200.000 dòng, 50 cột)",
    "no_rows": "tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào",
    "unknown_ballot": "cấp bầu cử «{value}» không hợp lệ (dùng qh, tinh, huyen hoặc xa)",
    "code_used_by_ballot": "mã đơn vị bầu cử này đã dùng cho cấp bầu cử {ballot}",
    "code_is_administrative": "mã «{value}» trùng với mã một đơn vị hành chính",
    "seats_below_one": "số đại biểu được bầu phải từ 1 trở lên",
    "bad_round": "«{value}» không hợp lệ: lần bầu là 1, hoặc 2 khi bầu lại",
    "unknown_organizing_unit": "không có đơn vị hành chính mã «{value}»",
    "organizing_unit_is_area": (
        "«{value}» là khu vực bỏ phiếu, không phải đơn vị hành chính tổ chức bầu cử"
    ),
    "unknown_electoral_unit": "không có đơn vị bầu cử mã «{value}»",
    "wrong_ballot": "đơn vị bầu cử này thuộc cấp bầu cử {ballot}",
    "number_below_one": "số thứ tự phải từ 1 trở lên",
    "duplicate_candidate": "số thứ tự {value} bị trùng{related}",
    "bad_date": "«{value}» không phải ngày sinh hợp lệ (dạng NĂM-THÁNG-NGÀY, ví dụ 1975-03-21)",
    "unknown_area": "không có khu vực bỏ phiếu mã «{value}»",
    "not_an_area": "«{value}» không phải khu vực bỏ phiếu (đơn vị này có đơn vị con)",
    "duplicate_mapping": "khu vực «{value}» đã được gán cho cấp bầu cử này{related}",
    "candidate_gap": "số thứ tự người ứng cử phải liên tục từ 1, còn thiếu số {value}",
    "no_candidates": "đơn vị bầu cử chưa có người ứng cử nào trong tệp",
    "too_few_candidates": (
        "số người ứng cử ({first}) phải nhiều hơn số đại biểu được bầu ({second})"
    ),
    "removes_recorded_unit": "đơn vị bầu cử đã có biên bản kết quả, không thể bỏ khỏi danh sách",
    "changes_recorded_candidates": (
        "đơn vị bầu cử đã có biên bản kết quả, không thể thay đổi số người ứng cử "
        "({first} thành {second})"
    ),
    "moves_recorded_area": (
        "khu vực {value} đã có biên bản kết quả, không thể chuyển sang đơn vị bầu cử khác"
    ),
    "unmaps_recorded_area": (
        "khu vực {value} đã có biên bản kết quả, phải giữ khu vực này trong tệp"
    ),
    "below_legal_minimum": (
        "số người ứng cử ({first}) ít hơn mức luật định ({second}); vẫn được nhập"
    ),
    "unit_without_areas": "đơn vị bầu cử chưa được gán khu vực bỏ phiếu nào",
    "lists_not_nested": (
        "khu vực {area}: danh sách cử tri {lower} ({small}) lớn hơn danh sách {upper} ({big})"
    ),
}


def _ballot_named(value: str) -> str:
    try:
        return BALLOT_LABELS[Ballot(value)]
    except ValueError:
        return without_markers(value)


def import_issue(
    file: str,
    sheet: str | None,
    line: int | None,
    column: str | None,
    kind: str,
    value: str | None,
    electoral_unit: str | None,
    related: Sequence[int] = (),
) -> str:
    """One problem, located: `• candidates.csv, dòng 4, cột «number»: …`, or for a whole
    electoral unit `• candidates.csv, đơn vị bầu cử «X-02752-1», cột «number»: …`."""
    where = without_markers(file)
    if sheet:
        where += f", trang «{without_markers(sheet)}»"
    if line is not None:
        where += f", dòng {line}"
    elif electoral_unit:
        where += f", đơn vị bầu cử «{without_markers(electoral_unit)}»"
    if column:
        where += f", cột «{without_markers(column)}»"
    shown = without_markers(value or "")
    others = ", ".join(str(n) for n in related)
    if kind == "unknown_file" and value:
        text = f"tệp «.{shown}» không được hỗ trợ: chỉ nhận .csv, .xlsx"
    elif kind in _ISSUES:
        first, _, second = shown.replace("→", "/").partition("/")
        area, upper, big, lower, small = (shown.split(" ") + [""] * 5)[:5]
        text = _ISSUES[kind].format(
            value=shown,
            related=f" (xem dòng {others})" if others else "",
            ballot=_ballot_named(value or ""),
            first=first,
            second=second,
            area=area,
            upper=_ballot_named(upper),
            big=big,
            lower=_ballot_named(lower),
            small=small,
        )
    else:
        text = base_texts.import_issue_text(kind, value, related)
    return f"• {where}: {text}"


def import_refused(issues: Sequence[ResultsIssueLike]) -> str:
    """Every error (warnings after them), and nothing changed."""
    ordered = sorted(issues, key=lambda i: i.is_warning)
    return base_texts.import_failed(
        [
            import_issue(
                i.file,
                i.sheet,
                i.line,
                i.column,
                i.kind,
                i.value,
                i.electoral_unit,
                i.related_lines,
            )
            for i in ordered
        ]
    )


def import_touches_records(what: Sequence[str]) -> str:
    listed = ", ".join(without_markers(w) for w in what[:20]) + (" …" if len(what) > 20 else "")
    return (
        f"{NO} Dữ liệu bầu cử chưa được nhập, không có gì thay đổi: tệp mới thay đổi những "
        f"đơn vị bầu cử hoặc khu vực đã có biên bản kết quả ({listed}). Giữ nguyên các mục "
        "này rồi gửi lại."
    )


def import_done(counts: ImportCounts, warnings: Sequence[ResultsIssueLike]) -> str:
    ballots = ", ".join(BALLOT_LABELS[b] for b in counts.ballots)
    parts = []
    if counts.electoral_units:
        parts.append(f"{vn_int(counts.electoral_units)} đơn vị bầu cử")
    if counts.candidates:
        parts.append(f"{vn_int(counts.candidates)} người ứng cử")
    if counts.area_ballots:
        parts.append(f"{vn_int(counts.area_ballots)} lượt gán khu vực bỏ phiếu")
    text = f"{OK} Đã nhập dữ liệu bầu cử ({ballots}): " + ", ".join(parts or ["không có dòng nào"])
    text += "."
    if warnings:
        shown = [
            import_issue(
                i.file,
                i.sheet,
                i.line,
                i.column,
                i.kind,
                i.value,
                i.electoral_unit,
                i.related_lines,
            )
            for i in warnings[:40]
        ]
        more = len(warnings) - len(shown)
        text += f"\n{WARN} Lưu ý ({len(warnings)}):\n" + "\n".join(shown)
        if more > 0:
            text += f"\n… và {more} lưu ý khác."
    return text


def audit_detail(files: Sequence[str], counts: ImportCounts) -> str:
    return (
        f"bầu cử: {', '.join(files)}: {vn_int(counts.electoral_units)} đơn vị bầu cử, "
        f"{vn_int(counts.candidates)} người ứng cử, {vn_int(counts.area_ballots)} lượt gán khu vực"
    )
