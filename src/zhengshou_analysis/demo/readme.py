"""The README of the demo ledgers: files, messy rules and where they appear, planted faults."""

from __future__ import annotations

from collections import Counter, defaultdict

import pandas as pd

from .ledgers import FEEDS, Ledgers
from .ledgers.common import PLACEHOLDERS, SYNTHETIC_LABEL
from .world import DemoConfig

__all__ = ["DATE_RULES", "MESSY_RULES", "render_readme"]

#: Every messy rule of docs/data_contract.md §1 the demo plants (coverage key → README text).
MESSY_RULES = {
    "title_rows": "title / unit / date rows above the header, title says 示例数据（模拟）",
    "title_unit": "unit in a title row (单位：万元) for money columns whose header names no unit",
    "header_2row": "two-row merged header: 征地（亩）/房屋征收（万平方米） over 任务/已完成",
    "header_2row_swapped": "two-row merged header, other orientation: 任务/已完成 over 征地（亩）/房屋（平方米）",
    "merged_category": "vertically merged category cells (片区, 类别, 资金来源)",
    "total_rows": "合计 / 小计 / 总计 rows (correct totals of the detail rows)",
    "sub_rows": "其中： sub-rows after a total (never added)",
    "total_mismatch": "the one deliberate total mismatch",
    "trailing_notes": "trailing notes below the table (填表人：, 审核人：, 备注：, 注：)",
    "fullwidth_digits": "full-width digits in cells (１２３．５)",
    "fullwidth_brackets": "full-width brackets in headers (（万元）) and values",
    "thousands": "numbers as text with thousands separators (1,234.50)",
    "suffix_wanyuan": "unit suffix 万元 in a cell (1,234.5万元)",
    "suffix_yi": "unit suffix 亿 in a cell (3.2亿)",
    "suffix_mu": "unit suffix 亩 in a cell (120亩)",
    "suffix_wan_m2": "unit suffix 万平方米 in a cell (3.5万平方米)",
    "suffix_m2": "unit suffix ㎡ in a cell (2000㎡)",
    "approx": "leading 约 (approximate value)",
    "remark": "trailing remark (300（含工作经费）)",
    "percent": "harmless percentage column (完成率 / 形象进度)",
    "zero": "0 as a real 0",
    "header_spaces": "headers with spaces inside (协 议 编 号)",
    "synonyms": "synonym headers and values from schemas.py",
    "nfkc_names": "site names with half- vs full-width brackets / trailing space, linked after NFKC",
    "basis_header": "transition fee basis from the header 过渡费标准（元/平方米/月）",
    "basis_column": "transition fee basis from a 计费方式 column",
    "undelivered_words": "未交付 / 在建 for undelivered sites",
    "no_table_sheet": "a sheet that matches no table (skipped)",
    "year_from_title": "projects without a 年度 column: year from the title row",
    "due_absent": "no 支付期限 column: payment_due_date stays NA (the policy's term applies in the figures)",
    "agreed_absent": "no 过渡期限 column: agreed_months stays NA (taken from the site's promise in the figures)",
    "project_by_name": "projects referenced by 项目名称 instead of 项目编号",
    "pii": "personal-data columns (fictitious)",
    "multi_sheet": "several sheets feeding one table",
    "multi_file": "several files feeding one table",
    "csv_utf8": "CSV in UTF-8",
    "csv_utf8_bom": "CSV in UTF-8 with BOM",
    "csv_gb18030": "CSV in GB18030",
    "csv_gbk": "CSV in GBK",
    "bad_rows": "deliberately bad rows (demo_expected_rejections)",
}
DATE_RULES = {
    "cn": "date 2021年1月30日",
    "dot": "date 2021.1.30",
    "slash": "date 2021/01/30",
    "dash": "date 2021-1-30",
    "iso": "date 2021-01-30",
    "ymd_text": "date 20210130 as text",
    "ymd_int": "date 20210130 as a number",
    "serial": "date as an Excel serial number (no date format)",
    "excel": "real Excel date (date number format)",
    "month_cn": "month-only date 2021年1月 (→ the 1st)",
    "month_dot": "month-only date 2021.01 (→ the 1st)",
    "ambiguous": "ambiguous float 2021.1 in a date column (→ January 1st, warning)",
}

_NO_TABLE_SHEETS = ("说明", "信访登记")

# bullets of "What the cleaner must know"; ``{yi}`` is the 亿 cell of the funding workbook, ``{site}``
# and ``{site_fw}`` a site name with half- and full-width brackets, ``{pid}`` a project id
_CLEANER_NOTES = (
    (
        "- **Site ids.** The site ledger has no 安置区编号; the cleaner derives `site_id` from the "
        "normalised name. `demo_truth()` holds the site *name* (NFKC, spaces removed, e.g. "
        "`{site}`) in every `site_id` column; tests map names to the derived ids. Site names "
        "are written with full-width brackets (`{site_fw}`) in the 2021–2022 transition sheet "
        "and in some agreement rows, and with a trailing space in a few rows."
    ),
    (
        "- **Project ids** are the 项目编号 of the project ledger (`{pid}`); the 2021–2022 "
        "agreements workbook, the 2021 and 2022 payment files and the funding workbook name projects "
        "by 项目名称 (with full-width brackets, equal after NFKC)."
    ),
    (
        "- **Units.** `单位：万元` in the title rows of the funding and 2021–2022 agreements workbooks "
        "applies to 到位金额 / 协议金额 (headers without unit). A unit written in a cell (`123.4567万元` "
        "in a 补偿总额（元） column, `{yi}` in a 万元 sheet, `3.4567万平方米` in a "
        "房屋（平方米） column) "
        "overrides the column's unit. Percentages (完成率, 形象进度) map to no canonical column."
    ),
    (
        "- **Dates.** Month-only dates are the 1st; the float `2021.1` (funding 2021, 区财政, an October "
        "inflow) is read as 2021-01-01 with a warning, and the truth holds 2021-01-01. Numbers in "
        "date columns are Excel serials (about 42 000–45 000) or `yyyymmdd` (8 digits)."
    ),
    (
        "- **Values the ledger does not state.** No 支付期限 column in the 2021–2022 agreements "
        "workbook, and a 支付期限 cell holding `待定`/`--`: `payment_due_date` stays NA in the "
        "cleaned table, and the figures apply the office's payment term (30 days by default). No "
        "过渡期限 column in the transition sheet `按面积计费（2021-2022年签约）`: `agreed_months` "
        "stays NA, and the figures take `months_between(start_date, promised_date of its site)`. "
        "The 2019 and 2020 project sheets have no 年度 column: the year is the title's."
    ),
    (
        "- **Total rows.** In the projects sheets the `小计` label sits in the 项目名称 column (the "
        "5th), `合计` and `其中：…` in the first (merged across the label columns); in the funding "
        "sheets `小计` sits in the 资金来源 column, below the merged cells of its source; `合计` "
        "(agreements 2016–2020) and `总计` (sites) in the first. Category cells are merged over detail rows only, never over a total."
    ),
    (
        "- **Placeholders.** `X x XX — -- - / 无 暂无 待定` and empty cells in optional columns are NA; "
        "`0` (land of house-only projects) stays 0. 实际交房日期 `未交付` / `在建` means not delivered."
    ),
    (
        "- **Sheets matching no table:** `说明` (agreements 2016–2020 workbook) and `信访登记` "
        "(transition workbook); skip them with an `info`."
    ),
    (
        "- **Personal data:** 被征收人/户主/姓名, 身份证号/证件号码/身份证号码, 联系电话/手机 columns "
        "(fictitious) appear in agreements, transition and payments; none may reach any output."
    ),
    (
        "- **Comparing with the truth:** money within 0.01 yuan, areas within 1e-6 relative; row order "
        "is not part of the contract (sort by the key)."
    ),
)


def render_readme(out: Ledgers, truth: dict[str, pd.DataFrame]) -> str:
    """The README of the rendered ledgers.

    Parameters
    ----------
    out
        The rendered ledgers.
    truth
        Their canonical truth (for the row counts).

    Returns
    -------
    str
        Markdown text, lines joined by newlines.
    """
    lines = _intro(out.world.seed, out.world.config)
    lines += _files_section(out, truth)
    lines += _rules_section(out.coverage)
    lines += _mismatch_section(out.mismatch)
    lines += _rejections_section(out.rejections)
    lines += ["", "## What the cleaner must know", ""]
    fill = {"{yi}": out.special["yi"], **_examples(out.world.config)}
    for text in _CLEANER_NOTES:
        for key, value in fill.items():
            text = text.replace(key, value)
        lines.append(text)
    lines.append("")
    return "\n".join(lines)


def _examples(config: DemoConfig) -> dict[str, str]:
    """The examples the cleaner notes quote: a site name with brackets (else the first site), as
    the site ledger writes it and with full-width brackets, and the first project id."""
    names = [s.name for s in config.site_plan]
    site = next((n for n in names if "(" in n), names[0])
    return {
        "{site}": site,
        "{site_fw}": site.replace("(", "（").replace(")", "）"),
        "{pid}": f"{config.project_prefix}-{config.report_years[0]}-001",
    }


def _intro(seed: int, config: DemoConfig) -> list[str]:
    return [
        f"# Demo raw ledgers — {SYNTHETIC_LABEL}",
        "",
        (
            "**示例数据，非真实统计.** A synthetic district written by "
            f"`{config.command.format(seed=seed)}` "
            "(`zhengshou_analysis.demo.write_demo_ledgers`); do not edit by hand, regenerate. "
            f"{config.names_note}"
            "every figure, person, ID-card number and phone number is invented (ID numbers start with "
            "`999`, phone numbers with `100`)."
        ),
        "",
        (
            "What the ledgers model (see the module docstring of `zhengshou_analysis.demo` for the random "
            "structure): funds arrive late and short so signed agreements wait for payment; households "
            "wait for resettlement flats so transitional fees pile up and fall into arrears; several "
            "sites are more than 3 years late; blocked projects (公建单位, 军事用地, 双高糖料蔗基地, 留用地, "
            f"资金). Everything is as of {config.as_of.isoformat()}."
        ),
    ]


def _files_section(out: Ledgers, truth: dict[str, pd.DataFrame]) -> list[str]:
    """Every file, the table it feeds, its sheets with their data rows, its encoding."""
    lines = [
        "",
        "## Files",
        "",
        "| file | feeds | sheets (data rows) | encoding |",
        "| --- | --- | --- | --- |",
    ]
    counts = _data_row_counts(out)
    for book in out.books:
        parts = []
        for sh in book.sheets:
            k = counts.get((book.name, sh.name))
            parts.append(f"{sh.name} ({k})" if k is not None else f"{sh.name} (no table)")
        lines.append(f"| `{book.name}` | {FEEDS[book.name]} | {'; '.join(parts)} | xlsx |")
    for csv in out.csvs:
        k = counts.get((csv.name, ""))
        lines.append(f"| `{csv.name}` | payments | ({k}) | {csv.encoding} |")
    summary = ", ".join(f"{name} {len(df)} rows" for name, df in truth.items())
    lines += ["", f"Data rows include the planted bad rows. Canonical truth: {summary}."]
    return lines


def _rules_section(coverage: dict[str, set[str]]) -> list[str]:
    """Every messy rule, date form and placeholder with the places it appears."""
    lines = [
        "",
        "## Messy formatting rules (docs/data_contract.md §1) and where they appear",
        "",
        "| rule | where (file / sheet) |",
        "| --- | --- |",
    ]
    rows = [(text, rule) for rule, text in MESSY_RULES.items()]
    rows += [(text, "date:" + style) for style, text in DATE_RULES.items()]
    rows += [
        (f"placeholder `{token or '(empty cell)'}`", "placeholder:" + (token or "(empty)"))
        for token in PLACEHOLDERS
    ]
    for text, rule in rows:
        lines.append(f"| {text} | {_where(sorted(coverage.get(rule, ())))} |")
    return lines


def _mismatch_section(m: dict) -> list[str]:
    return [
        "",
        "## The deliberate total mismatch",
        "",
        (
            f"`{m['file']}` sheet `{m['sheet']}`, row {m['row']} (`合计`), column {m['column']} "
            f"(`{m['canonical']}`): stated **{m['stated']:.2f}** 亩, the detail rows sum to "
            f"**{m['detail_sum']:.2f}** 亩. The cleaner must log a `warning` with both numbers. Every "
            "other 合计/小计/总计 equals its detail rows; `其中：` rows are never added."
        ),
    ]


def _rejections_section(rejections: list[dict]) -> list[str]:
    lines = [
        "",
        "## Planted bad rows (`demo_expected_rejections`)",
        "",
        (
            "Not in the truth; a correct cleaner rejects each with a `warning` and keeps going. Rows are "
            "the row a person sees: the Excel row, or the physical line of the CSV file (its title line "
            "is line 1, its header line 2); a CSV's sheet is its file name without `.csv`, so "
            "`FILE#SHEET!ROW` is the row's `origin`."
        ),
        "",
        "| file | sheet | row | table | reason |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rej in rejections:
        lines.append(
            f"| `{rej['file']}` | {rej['sheet'] or '—'} | {rej['row']} | {rej['table']} | "
            f"{rej['reason']} |"
        )
    return lines


def _where(where: list[str]) -> str:
    """``file / sheet`` entries grouped by file: `file` (sheet, sheet); `file`."""
    if not where:
        return "—"
    by_file: dict[str, list[str]] = defaultdict(list)
    for w in where:
        file, _, sheet = w.partition(" / ")
        if sheet:
            by_file[file].append(sheet)
        else:
            by_file.setdefault(file, [])
    parts = []
    for file in sorted(by_file):
        sheets = by_file[file]
        parts.append(f"`{file}`" + (f" ({', '.join(sheets)})" if sheets else ""))
    return "; ".join(parts)


def _data_row_counts(out: Ledgers) -> dict[tuple[str, str], int]:
    """Data rows per (file, sheet): rows with an integer 序号 (the planted bad rows included)."""
    counts: Counter[tuple[str, str]] = Counter()
    for book in out.books:
        for sh in book.sheets:
            if sh.name in _NO_TABLE_SHEETS:
                continue
            counts[(book.name, sh.name)] = sum(
                1 for (r, c), v in sh.cells.items() if c == 0 and isinstance(v, int) and r > 1
            )
    for csv in out.csvs:
        counts[(csv.name, "")] = sum(1 for row in csv.rows[2:] if len(row) > 1)
    return dict(counts)
