"""The results night's Vietnamese strings: ballot names, the import's messages, the counting
record's answers (unreadable, refused with the numbers that disagree, read back before the
confirmation) and the provisional outcome of electoral units and ballots.

Like `bot/texts.py`: functions here only format plain values into marked text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from bot import texts as base_texts
from bot.formatting import vn_int
from bot.messaging.marked import code, strong, without_markers
from bot.results.checks import CheckReason, Findings, Mismatch
from bot.results.grammar import ParsedRecord, RecordField, UnreadableReason, UnreadableRecord
from bot.results.model import Ballot, Candidate, ElectoralUnit, UnitStanding
from bot.results.outcome import BallotTally, UnitFlag, UnitOutcome, percent_of
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


# -- the counting record: unreadable, refused, read back (bot/results/grammar.py, checks.py) ----

RECORD_EXAMPLE = (
    "KQ QH\n"
    "cử tri 1.250, đã bầu 1.238, phát ra 1.238, thu vào 1.238\n"
    "hợp lệ 1.220, không hợp lệ 18\n"
    "1) 950 2) 870 3) 640 4) 500 5) 410"
)

FIELD_NAMES: dict[RecordField, str] = {
    RecordField.REGISTERED_VOTERS: "số cử tri trong danh sách (cử tri)",
    RecordField.VOTED: "số cử tri đã bầu (đã bầu)",
    RecordField.ISSUED: "số phiếu phát ra (phát ra)",
    RecordField.RETURNED: "số phiếu thu vào (thu vào)",
    RecordField.VALID: "số phiếu hợp lệ (hợp lệ)",
    RecordField.INVALID: "số phiếu không hợp lệ (không hợp lệ)",
}


def vn_decimal_percent(value: Decimal) -> str:
    """Decimal('76.92') -> '76,92%'."""
    return f"{value}%".replace(".", ",")


def _quoted(text: str) -> str:
    return f"«{without_markers(text)}»"


_UNREADABLE: dict[UnreadableReason, str] = {
    UnreadableReason.UNKNOWN_BALLOT: (
        "chưa rõ biên bản của cấp bầu cử nào{where}. Sau «KQ» ghi một trong: QH, tỉnh, "
        "huyện, xã (ví dụ «KQ QH», «KQ HĐND xã»)."
    ),
    UnreadableReason.TWO_AREAS: (
        "tin nhắn ghi hai khu vực{where}. Mỗi tin nhắn là biên bản của một khu vực."
    ),
    UnreadableReason.UNKNOWN_WORD: "chưa hiểu từ{where}.",
    UnreadableReason.UNEXPECTED: (
        "chưa hiểu{where}: biên bản chỉ ghi các con số, không ghi %, dấu / hay phép tính."
    ),
    UnreadableReason.FIELD_WITHOUT_NUMBER: "mục{where} chưa có số.",
    UnreadableReason.DUPLICATE_FIELD: "mục{where} được ghi hai lần.",
    UnreadableReason.MISSING_FIELDS: "biên bản còn thiếu {fields}.",
    UnreadableReason.SPACE_IN_NUMBER: (
        "chưa rõ{where}: nếu là một số, viết liền hoặc dùng dấu chấm (1.250 hoặc 1250); "
        "số phiếu bầu của người ứng cử ghi ở dòng riêng, sau các mục."
    ),
    UnreadableReason.STRAY_NUMBER: (
        "số{where} không thuộc mục nào: mỗi mục chỉ có một số; số phiếu bầu của người ứng cử "
        "ghi ở dòng riêng, sau các mục."
    ),
    UnreadableReason.UNCLEAR_NUMBER: (
        "chưa rõ số{where}: viết 1.250 hoặc 1250 (không dùng dấu phẩy, không có phần thập "
        "phân), các số phiếu bầu cách nhau bằng dấu cách."
    ),
    UnreadableReason.NUMBER_TOO_LONG: "số{where} quá dài.",
    UnreadableReason.VOTE_OUT_OF_ORDER: (
        "số phiếu bầu{where} không đúng thứ tự: ghi theo thứ tự người ứng cử trên lá phiếu, "
        "bắt đầu từ 1), không bỏ sót người nào."
    ),
    UnreadableReason.MIXED_VOTE_FORMS: (
        "số phiếu bầu{where} ghi lẫn hai kiểu: hoặc đánh số «1) 950 2) 870», hoặc chỉ ghi "
        "các số «950 870» theo thứ tự trên lá phiếu."
    ),
}


def record_unreadable(problem: UnreadableRecord) -> str:
    """❌ A message that starts as a counting record but cannot be read: why, where, and the
    form to follow."""
    where = f" {_quoted(problem.where)}" if problem.where else ""
    fields = ", ".join(FIELD_NAMES[f] for f in problem.fields)
    body = _UNREADABLE[problem.reason].format(where=where, fields=fields)
    return (
        f"{NO} Chưa đọc được biên bản kết quả, chưa lưu: {body}\n"
        f"Mẫu (mỗi mục một số, số phiếu bầu theo thứ tự trên lá phiếu):\n{code(RECORD_EXAMPLE)}"
    )


def _candidate(number: int, candidates: Sequence[Candidate]) -> str:
    name = next((c.name for c in candidates if c.number == number), None)
    return f"số {number} ({without_markers(name)})" if name else f"số {number}"


def mismatch(m: Mismatch, *, seats: int, candidates: Sequence[Candidate] = ()) -> str:
    """One broken rule, naming the numbers that disagree and by how much."""
    left, right, by = vn_int(m.left), vn_int(m.right), vn_int(m.by)
    r = CheckReason
    match m.reason:
        case r.BALLOT_NOT_IN_ELECTION:
            return "cuộc bầu cử này không có cấp bầu cử đó (chưa nhập đơn vị bầu cử nào)."
        case r.AREA_NOT_MAPPED:
            return (
                "khu vực chưa được gán vào đơn vị bầu cử nào của cấp bầu cử này; đồng chí "
                "liên hệ Ban bầu cử."
            )
        case r.ALL_ZEROS:
            return "mọi số trong biên bản đều bằng 0."
        case r.VOTE_COUNT_NE_CANDIDATES:
            return (
                f"có {left} số phiếu bầu nhưng đơn vị bầu cử có {right} người ứng cử: ghi đủ "
                "số phiếu của từng người, theo thứ tự trên lá phiếu."
            )
        case r.VALID_PLUS_INVALID_NE_RETURNED:
            return (
                f"phiếu hợp lệ + phiếu không hợp lệ = {left}, khác số phiếu thu vào {right} "
                f"(lệch {by})."
            )
        case r.RETURNED_OVER_ISSUED:
            return f"phiếu thu vào {left} nhiều hơn phiếu phát ra {right} (thừa {by})."
        case r.ISSUED_OVER_VOTERS:
            return f"phiếu phát ra {left} nhiều hơn số cử tri trong danh sách {right} (thừa {by})."
        case r.VOTED_OVER_VOTERS:
            return (
                f"số cử tri đã bầu {left} nhiều hơn số cử tri trong danh sách {right} (thừa {by})."
            )
        case r.VOTES_OVER_VALID:
            return (
                f"người ứng cử {_candidate(m.candidate or 0, candidates)} được {left} phiếu, "
                f"nhiều hơn số phiếu hợp lệ {right} (thừa {by})."
            )
        case r.VOTES_UNDER_VALID:
            return (
                f"tổng số phiếu bầu của các người ứng cử là {left}, ít hơn số phiếu hợp lệ "
                f"{right} (thiếu {by}): mỗi phiếu hợp lệ bầu ít nhất một người."
            )
        case r.VOTES_OVER_SEATS_TIMES_VALID:
            return (
                f"tổng số phiếu bầu của các người ứng cử là {left}, nhiều hơn {seats} × số "
                f"phiếu hợp lệ = {right} (thừa {by}): mỗi phiếu hợp lệ bầu nhiều nhất "
                f"{seats} người."
            )
        case r.LOAI_SUM_NE_VALID:
            return f"cộng số phiếu các loại được {left}, khác số phiếu hợp lệ {right} (lệch {by})."
        case r.LOAI_WEIGHTED_NE_VOTES:
            return (
                f"theo số phiếu từng loại, tổng số phiếu bầu phải là {left}, nhưng cộng số "
                f"phiếu của các người ứng cử được {right} (lệch {by})."
            )
        case r.LOAI_KIND_OVER_SEATS:
            return (
                f"có phiếu loại {left} (bầu {left} người) nhưng đơn vị bầu cử chỉ bầu "
                f"{right} đại biểu."
            )
        case r.VOTED_NE_RETURNED:
            return f"số cử tri đã bầu {left} khác số phiếu thu vào {right} (lệch {by})."
        case r.VOTED_NE_ISSUED:
            return f"số cử tri đã bầu {left} khác số phiếu phát ra {right} (lệch {by})."
        case r.INVALID_OVER_SHARE:
            share = vn_decimal_percent(percent_of(m.left, m.right))
            return (
                f"phiếu không hợp lệ {left} bằng {share} số phiếu thu vào {right}, quá 5% "
                f"(quá {by} phiếu)."
            )
        case r.VOTED_FAR_FROM_TURNOUT:
            return (
                f"số cử tri đã bầu {left} khác số báo cáo lần cuối trong ngày bầu cử {right} "
                f"(lệch {by}, quá 1% số cử tri trong danh sách)."
            )
        case r.VOTERS_NE_IMPORTED:
            return (
                f"số cử tri ghi trong biên bản {left} khác danh sách đã nhập {right} (lệch {by})."
            )
    raise AssertionError(m.reason)  # pragma: no cover


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _heading(ballot: Ballot, area: str, unit_name: str | None, correction: bool) -> str:
    what = "Biên bản sửa lại" if correction else "Biên bản"
    place = f"khu vực {without_markers(area)}"
    if unit_name:
        place += f", {without_markers(unit_name)}"
    return f"{what} kết quả kiểm phiếu bầu cử {BALLOT_FULL_NAMES[ballot]} ({place})"


def record_refused(
    record: ParsedRecord,
    findings: Findings,
    *,
    area: str,
    unit_name: str | None = None,
    seats: int = 1,
    candidates: Sequence[Candidate] = (),
) -> str:
    """❌ Every blocking error, with its numbers; nothing is kept."""
    lines = [
        f"{NO} {_heading(record.ballot, area, unit_name, record.is_correction)} chưa khớp, "
        "chưa lưu:"
    ]
    lines += [
        f"• {_capital(mismatch(m, seats=seats, candidates=candidates))}" for m in findings.errors
    ]
    lines.append("Đồng chí kiểm tra lại biên bản và gửi lại cả biên bản.")
    return "\n".join(lines)


def record_read_back(
    record: ParsedRecord,
    findings: Findings,
    *,
    area: str,
    unit: ElectoralUnit,
    candidates: Sequence[Candidate],
    imported_list: int | None,
    button: bool = False,
) -> str:
    """The whole record read back before it is kept: the fields, each candidate's name, votes
    and % of the valid ballots, the warnings, and how to confirm."""
    stated = record.registered_voters
    voters = stated if stated is not None else imported_list
    lines = [f"{_heading(record.ballot, area, unit.name, record.is_correction)}:"]
    if voters is not None:
        note = "" if stated is not None else " (theo danh sách đã nhập)"
        lines.append(f"• Cử tri trong danh sách: {strong(vn_int(voters))}{note}")
    lines += [
        f"• Cử tri đã bầu: {strong(vn_int(record.voted))}",
        f"• Phiếu phát ra: {strong(vn_int(record.issued))}; "
        f"phiếu thu vào: {strong(vn_int(record.returned))}",
        f"• Phiếu hợp lệ: {strong(vn_int(record.valid))}; "
        f"phiếu không hợp lệ: {strong(vn_int(record.invalid))}",
        "Số phiếu bầu cho từng người ứng cử (tỷ lệ trên số phiếu hợp lệ):",
    ]
    names = {c.number: c.name for c in candidates}
    for number, votes in enumerate(record.votes, start=1):
        share = vn_decimal_percent(percent_of(votes, record.valid))
        name = without_markers(names.get(number, "?"))
        lines.append(f"{number}. {name}: {strong(vn_int(votes))} phiếu ({share})")
    if record.loai:
        kinds = "; ".join(
            f"bầu {k} người: {vn_int(count)}" for k, count in enumerate(record.loai, start=1)
        )
        lines.append(f"Phiếu hợp lệ theo số người được bầu: {kinds}")
    if findings.warnings:
        lines.append(f"{WARN} Cần xem lại:")
        lines += [
            f"• {mismatch(m, seats=unit.seats, candidates=candidates)}" for m in findings.warnings
        ]
    how = "bấm nút «Đúng» hoặc trả lời «đúng»" if button else "trả lời «đúng»"
    lines.append(
        f"Chưa lưu. Nếu số liệu đúng với biên bản, {how} để lưu; nếu sai, gửi lại cả biên bản."
    )
    return "\n".join(lines)


# -- the provisional outcome (bot/results/outcome.py) ------------------------------------------


def outcome_flag(ballot: Ballot, flag: UnitFlag) -> str:
    if flag is UnitFlag.REVOTE:
        return "Số cử tri đi bầu chưa quá một nửa số cử tri trong danh sách: phải bầu lại."
    if ballot is Ballot.QH:
        return (
            "Số người trúng cử ít hơn số đại biểu được bầu: đề nghị bầu thêm (Hội đồng bầu cử "
            "quốc gia xem xét, quyết định)."
        )
    return "Số người trúng cử chưa đạt hai phần ba số đại biểu được bầu: phải bầu thêm."


def unit_outcome(result: UnitOutcome) -> str:
    """An electoral unit's totals and provisional standing, as `/ketqua` shows it."""
    lines = [
        f"{strong(without_markers(result.name))} — {BALLOT_LABELS[result.ballot]}, "
        f"bầu {result.seats} đại biểu" + (" (bầu lại)" if result.round >= 2 else ""),
        f"Khu vực đã có biên bản: {vn_int(result.areas_reported)}/{vn_int(result.areas_mapped)}",
    ]
    if result.areas_checked != result.areas_reported:
        lines[-1] += f" (đã nhập đủ 2 lần: {vn_int(result.areas_checked)})"
    lines += [
        f"Cử tri đã bầu: {vn_int(result.voted)}/{vn_int(result.registered_voters)} "
        f"({vn_decimal_percent(result.turnout)})",
        f"Phiếu hợp lệ: {vn_int(result.valid)}; phiếu không hợp lệ: {vn_int(result.invalid)}",
    ]
    for c in result.candidates:
        mark = f"{OK} " if c.elected else ""
        tail = " — trúng cử" if c.elected else ""
        lines.append(
            f"{mark}{c.number}. {without_markers(c.name)}: {vn_int(c.votes)} phiếu "
            f"({vn_decimal_percent(c.percent)}){tail}"
        )
    if not result.complete:
        lines.append("Chưa đủ biên bản: chưa xác định người trúng cử.")
    else:
        lines.append(
            f"Kết quả tạm tính: trúng cử {len(result.elected)}/{result.seats} đại biểu."
            if result.flag is not UnitFlag.REVOTE
            else "Kết quả tạm tính: không có người trúng cử."
        )
        if result.flag is not None:
            lines.append(f"{WARN} {outcome_flag(result.ballot, result.flag)}")
    return "\n".join(lines)


def ballot_tally(tally: BallotTally) -> str:
    """One ballot over an administrative unit: `HĐND xã: bầu được 1.952/2.019 …`."""
    text = (
        f"{BALLOT_LABELS[tally.ballot]}: bầu được {vn_int(tally.seats_filled)}/"
        f"{vn_int(tally.seats)} đại biểu; đơn vị bầu cử đủ biên bản "
        f"{vn_int(tally.units_complete)}/{vn_int(tally.units_total)}"
    )
    flags = []
    if tally.revotes:
        flags.append(f"bầu lại: {vn_int(tally.revotes)}")
    if tally.additional_votes:
        word = "đề nghị bầu thêm" if tally.ballot is Ballot.QH else "bầu thêm"
        flags.append(f"{word}: {vn_int(tally.additional_votes)}")
    return text + (f" ({'; '.join(flags)})" if flags else "")


# -- results night's reads: /ketqua, /chuakq, /xuat kq, the candidates' chart -------------------

RESULTS_USAGE = (
    f"{NO} Cách dùng: {code('/ketqua [mã đơn vị] [qh|tinh|huyen|xa]')} (mã đơn vị hành chính "
    "hoặc mã đơn vị bầu cử)."
)
RESULTS_USAGE_BRIEF = "Cách dùng: /ketqua [mã] [qh|tinh|huyen|xa]"
MISSING_RESULTS_USAGE = f"{NO} Cách dùng: {code('/chuakq [mã đơn vị] [qh|tinh|huyen|xa]')}."
MISSING_RESULTS_USAGE_BRIEF = "Cách dùng: /chuakq [mã] [qh|tinh|huyen|xa]"
EXPORT_RESULTS_USAGE = f"{NO} Cách dùng: {code('/xuat kq [mã đơn vị] [csv|xlsx]')}."
EXPORT_RESULTS_USAGE_BRIEF = "Cách dùng: /xuat kq [mã] [csv|xlsx]"
NO_BALLOTS_YET = (
    f"{NO} Chưa có dữ liệu bầu cử (đơn vị bầu cử, người ứng cử): quản trị viên gửi các tệp "
    "electoral_units, candidates, area_ballots kèm chú thích /nhap."
)
NO_BALLOTS_YET_BRIEF = "Chưa có dữ liệu bầu cử (đơn vị bầu cử, người ứng cử)."


def not_your_electoral_unit(code_: str) -> str:
    return (
        f"{NO} Đồng chí không phụ trách đơn vị bầu cử {code(without_markers(code_))} "
        "(đơn vị tổ chức bầu cử hoặc khu vực bỏ phiếu của đơn vị này không thuộc phạm vi "
        "của đồng chí)."
    )


def not_your_electoral_unit_brief(code_: str) -> str:
    return f"Đồng chí không phụ trách đơn vị bầu cử {without_markers(code_)[:32]}."


def wrong_ballot(code_: str, ballot: Ballot) -> str:
    return (
        f"{NO} Đơn vị bầu cử {code(without_markers(code_))} thuộc cấp bầu cử "
        f"{BALLOT_LABELS[ballot]}: bỏ cấp bầu cử sau mã, hoặc ghi đúng cấp."
    )


def wrong_ballot_brief(ballot: Ballot) -> str:
    return f"Đơn vị bầu cử này thuộc cấp {BALLOT_LABELS[ballot]}."


def _updated(now: dt.datetime) -> str:
    return f"Cập nhật {now:%H:%M} ngày {now:%d/%m/%Y}"


def electoral_unit_label(unit: ElectoralUnit) -> str:
    return f"{without_markers(unit.name)} ({without_markers(unit.code)})"


def unit_results(result: UnitOutcome, code_: str, now: dt.datetime) -> str:
    """`/ketqua` for an electoral unit: the header, then `unit_outcome`."""
    head = f"🗳️ {strong('Kết quả bầu cử (tạm tính)')} – {without_markers(code_)}"
    return f"{head}\n{_updated(now)}\n{unit_outcome(result)}"


def admin_results_header(unit_label: str, now: dt.datetime) -> str:
    return f"🗳️ {strong(f'Kết quả bầu cử (tạm tính) – {unit_label}')}\n{_updated(now)}"


def no_electoral_units(unit_label: str, ballot: Ballot | None) -> str:
    which = f" cấp {BALLOT_LABELS[ballot]}" if ballot is not None else ""
    return (
        f"Chưa có đơn vị bầu cử{which} nào do {unit_label} hoặc đơn vị trực thuộc tổ chức. "
        "Xem kết quả của một đơn vị bầu cử: /ketqua <mã đơn vị bầu cử>."
    )


def electoral_unit_line(unit: UnitStanding, seats_filled: int, flag: UnitFlag | None) -> str:
    """One electoral unit in an administrative unit's listing (`/ketqua <mã> <cấp>`)."""
    name = f"{without_markers(unit.name)} ({without_markers(unit.code)})"
    areas = f"biên bản {vn_int(unit.areas_reported)}/{vn_int(unit.areas_mapped)} KV"
    if not unit.complete:
        return f"• {name}: {areas}, chưa đủ"
    if flag is UnitFlag.REVOTE:
        return f"• {name}: {areas}; {WARN} bầu lại"
    text = f"• {name}: {areas}; trúng cử {seats_filled}/{unit.seats}"
    if flag is UnitFlag.ADDITIONAL_VOTE:
        word = "đề nghị bầu thêm" if unit.ballot is Ballot.QH else "bầu thêm"
        text += f"; {WARN} {word}"
    return text


def more_electoral_units(count: int) -> str:
    return f"… và {vn_int(count)} đơn vị bầu cử khác."


BALLOT_LISTING_HINT = "Danh sách từng đơn vị bầu cử: /ketqua <mã> <qh|tinh|huyen|xa>."


def missing_results_none(label: str, double_entry: bool) -> str:
    what = "đã có biên bản kết quả nhập đủ 2 lần" if double_entry else "đã có biên bản kết quả"
    return f"{OK} Tất cả khu vực bỏ phiếu của {label} {what}."


def missing_results_header(label: str, missing: int, total: int, double_entry: bool) -> str:
    what = "chưa đủ 2 lần nhập biên bản" if double_entry else "chưa có biên bản kết quả"
    return (
        f"📋 {strong(f'Khu vực {what} – {label}')}: {vn_int(missing)}/{vn_int(total)} "
        "lượt (khu vực × cấp bầu cử)"
    )


def missing_results_group(unit: ElectoralUnit, missing: int, total: int) -> str:
    return (
        f"\n{strong(f'{BALLOT_LABELS[unit.ballot]} – {electoral_unit_label(unit)}')}: "
        f"{vn_int(missing)}/{vn_int(total)} khu vực"
    )


def awaiting_second_entry(area_line: str, conflict: bool) -> str:
    return f"{area_line} ({'lần nhập 2 không khớp' if conflict else 'chờ nhập lần 2'})"


def results_export_caption(label: str, areas_rows: int, units_rows: int) -> str:
    return (
        f"{OK} Kết quả bầu cử (tạm tính) – {label}: {vn_int(areas_rows)} dòng theo khu vực, "
        f"{vn_int(units_rows)} dòng theo đơn vị bầu cử."
    )


def results_sheet_title(label: str, as_of: dt.datetime, which: str) -> str:
    return f"Kết quả bầu cử (tạm tính) – {which} – {label} – {as_of:%H:%M %d/%m/%Y}"


RESULTS_SHEET_AREAS = "theo khu vực bỏ phiếu"
RESULTS_SHEET_UNITS = "theo đơn vị bầu cử"

# The .xlsx headers (the CSV keeps the contract's English names).
RESULTS_HEADERS_VI = {
    "ballot": "Cấp bầu cử",
    "electoral_unit": "Mã đơn vị bầu cử",
    "area_code": "Mã khu vực",
    "name": "Tên đơn vị bầu cử",
    "seats": "Số đại biểu được bầu",
    "areas_total": "Số khu vực",
    "areas_reported": "Khu vực có biên bản",
    "registered_voters": "Cử tri trong danh sách",
    "voted": "Cử tri đã bầu",
    "turnout_percent": "Tỷ lệ đi bầu",
    "ballots_issued": "Phiếu phát ra",
    "ballots_returned": "Phiếu thu vào",
    "valid": "Phiếu hợp lệ",
    "invalid": "Phiếu không hợp lệ",
    "candidate_number": "Số thứ tự",
    "candidate_name": "Người ứng cử",
    "birth_date": "Ngày sinh",
    "votes": "Số phiếu bầu",
    "percent_of_valid": "Tỷ lệ trên phiếu hợp lệ",
    "outcome": "Kết quả (tạm tính)",
    "unit_flag": "Ghi chú đơn vị",
    "status": "Trạng thái biên bản",
    "entered_at": "Thời điểm xác nhận",
}

# The candidates' chart (bot.monitoring.charts, chart 3).
CHART_CANDIDATE_VALUE = "{percent} · {votes} phiếu"
CHART_KEY_ELECTED = "trúng cử (tạm tính)"
CHART_KEY_NOT_ELECTED = "không trúng cử"
CHART_KEY_INCOMPLETE = "chưa đủ biên bản"
CHART_KEY_HALF = "50% phiếu hợp lệ"


def chart_title(unit: ElectoralUnit) -> str:
    return f"{BALLOT_LABELS[unit.ballot]} – {without_markers(unit.name)}"


def chart_subtitle(result: UnitOutcome, now: dt.datetime) -> str:
    state = (
        "tạm tính"
        if result.complete
        else f"chưa đủ biên bản ({vn_int(result.areas_reported)}/{vn_int(result.areas_mapped)} KV)"
    )
    return (
        f"Tỷ lệ phiếu bầu trên {vn_int(result.valid)} phiếu hợp lệ · bầu {result.seats} đại biểu"
        f" · {state} · {now:%H:%M %d/%m}"
    )
