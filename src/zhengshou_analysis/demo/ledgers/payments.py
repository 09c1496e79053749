"""The payment ledgers (征收款项支付台账): one CSV per year (2016–2018 together), four encodings.

Three column variants (A, B, C) name the same things differently; C names projects by 项目名称.
Two planted bad lines: an impossible date (2020) and a negative 冲红 amount (2021).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..workbook import Csv
from ..world import Payment, Person, pick
from .common import FULLWIDTH, SYNTHETIC_LABEL, Ledgers, date_cell, date_rule, fmt

__all__ = ["FILES", "render_payments"]

#: file name, years covered, encoding, column variant
FILES = (
    ("征收款项支付台账_2016-2018.csv", (2016, 2018), "utf-8", "A"),
    ("征收款项支付台账_2019.csv", (2019, 2019), "utf-8", "A"),
    ("征收款项支付台账_2020.csv", (2020, 2020), "utf-8-sig", "B"),
    ("征收款项支付台账_2021.csv", (2021, 2021), "gb18030", "C"),
    ("征收款项支付台账_2022.csv", (2022, 2022), "gbk", "C"),
)
_KINDS = {
    "A": {"补偿款": "补偿款", "过渡安置费": "过渡费", "工作经费": "工作经费"},
    "B": {"补偿款": "补偿", "过渡安置费": "临时安置费", "工作经费": "工作经费"},
    "C": {"补偿款": "征收补偿款", "过渡安置费": "过渡安置费", "工作经费": "工作经费"},
}
_HEADERS = {
    "A": ["凭证号", "支付日期", "协议编号", "被征收人", "项目编号", "款项类型", "支付金额（元）"],
    "B": ["凭证号", "付款日期", "协议编号", "被征收人", "联系电话", "项目编号", "支付类型", "金额"],
    "C": [
        "凭证号",
        "拨付日期",
        "协议编号",
        "姓名",
        "身份证号",
        "项目名称",
        "用途",
        "拨付金额（元）",
    ],
}
_DATE_STYLES = {
    "征收款项支付台账_2016-2018.csv": ("iso", "slash"),
    "征收款项支付台账_2019.csv": ("iso", "slash", "ymd_text"),
    "征收款项支付台账_2020.csv": ("cn", "dash"),
    "征收款项支付台账_2021.csv": ("dot", "ymd_text"),
    "征收款项支付台账_2022.csv": ("slash", "cn"),
}
_ENCODING_RULE = {
    "utf-8": "csv_utf8",
    "utf-8-sig": "csv_utf8_bom",
    "gb18030": "csv_gb18030",
    "gbk": "csv_gbk",
}
# the first year of a file → the bad line planted after the payment at (rows // divisor)
_PLANTED = {2020: ("bad_date", 2), 2021: ("negative", 3)}


def render_payments(out: Ledgers) -> None:
    """Render the payment CSV files into ``out``.

    Parameters
    ----------
    out
        The collector of the world being rendered.
    """
    rng = out.rng("render-payments")
    for fname, years, enc, variant in FILES:
        out.csvs.append(_payment_file(out, fname, years, enc, variant, rng))


def _payment_file(
    out: Ledgers,
    fname: str,
    years: tuple[int, int],
    enc: str,
    variant: str,
    rng: np.random.Generator,
) -> Csv:
    y0, y1 = years
    csv = Csv(fname, enc)
    label = f"{y0}年" if y0 == y1 else f"{y0}—{y1}年"
    csv.rows.append([f"{out.world.config.district}{label}征收款项支付台账（{SYNTHETIC_LABEL}）"])
    csv.rows.append(list(_HEADERS[variant]))
    rules = ["title_rows", _ENCODING_RULE[enc], "multi_file", "pii", "synonyms"]
    if variant == "C":
        rules.append("project_by_name")
    for rule in rules:
        out.cov(rule, fname)
    rows = [x for x in out.world.payments if y0 <= x.date.year <= y1]
    planted: dict[int, str] = {}
    if y0 in _PLANTED:
        what, divisor = _PLANTED[y0]
        planted[len(rows) // divisor] = what
    for i, x in enumerate(rows):
        _payment_line(out, csv, x, variant, rng)
        if i in planted:
            _planted_payment(out, csv, x, variant, planted[i])
    if y0 == 2019:
        csv.rows += [["填表人：张某某"], ["审核人：黄某某"]]
        out.cov("trailing_notes", fname)
    return csv


def _line(
    variant: str,
    pid: str,
    cell: str,
    ag: str,
    person: Person | None,
    project: str,
    kind: str,
    amount: str,
) -> list[str]:
    """One CSV line in the column order of ``variant`` (B adds a phone, C an ID number)."""
    name = person.name if person else ""
    extra = {
        "A": [],
        "B": [person.phone if person else ""],
        "C": [person.idno if person else ""],
    }[variant]
    return [pid, cell, ag, name, *extra, project, _KINDS[variant][kind], amount]


def _amount_text(out: Ledgers, x: Payment, variant: str, draw: float, fname: str) -> str:
    """The amount in 元: with thousands separators, full-width digits (C) or plain."""
    if x.amount >= 1000 and draw < 0.3:
        out.cov("thousands", fname)
        return f"{x.amount:,.2f}"
    if variant == "C" and draw < 0.33:
        out.cov("fullwidth_digits", fname)
        return fmt(x.amount, 2).translate(FULLWIDTH)
    return fmt(x.amount, 2)


def _payment_line(
    out: Ledgers, csv: Csv, x: Payment, variant: str, rng: np.random.Generator
) -> None:
    """Write payment ``x``; record its truth."""
    fname = csv.name
    style = pick(rng, _DATE_STYLES[fname])
    cell, read = date_cell(x.date, style)
    out.cov(date_rule(style), fname)
    amount = _amount_text(out, x, variant, rng.random(), fname)
    if x.ag:
        ag = x.ag.aid
    else:
        options = ("/", "") if variant == "A" else ("",)
        ag = out.placeholder("payments.agreement", options, fname, "")
    if x.project is None:
        project = out.placeholder("payments.project", ("", "/", "—"), fname, "")
    else:
        project = x.project.name if variant == "C" else x.project.pid
    person = x.ag.person if x.ag else None
    csv.rows.append(_line(variant, x.pid, str(cell), ag, person, project, x.kind, amount))
    out.truth["payments"].append(
        {
            "payment_id": x.pid,
            "date": read,
            "agreement_id": x.ag.aid if x.ag else None,
            "project_id": x.project.pid if x.project else None,
            "kind": x.kind,
            "amount_yuan": round(x.amount, 2),
        }
    )


def _planted_payment(out: Ledgers, csv: Csv, x: Payment, variant: str, what: str) -> None:
    """A bad payment line right after the line of payment ``x``."""
    if what == "negative":
        pid = f"ZF{x.date.year}-90001"
        cell = str(date_cell(x.date, "dot")[0])
        amount = f"-{x.amount:,.2f}"
        reason = f"negative amount_yuan {amount} (冲红 of {x.pid})"
    else:
        pid = f"ZF{x.date.year}-90002"
        cell = "2020-11-31"
        amount = fmt(x.amount, 2)
        reason = "unparseable required date '2020-11-31'"
    project = ""
    if x.project:
        project = x.project.name if variant == "C" else x.project.pid
    ag = x.ag.aid if x.ag else ""
    person = x.ag.person if x.ag else None
    csv.rows.append(_line(variant, pid, cell, ag, person, project, x.kind, amount))
    # a CSV's one "sheet" is named like the file; its row is the physical line
    out.reject(csv.name, Path(csv.name).stem, len(csv.rows), "payments", reason)
