"""Tests of the synthetic demo district (``zhengshou_analysis.demo``).

Besides shape and reproducibility, these tests read the raw files back with a small, independent
reader (header by content, data rows numbered by 序号, the number and date readings of
docs/data_contract.md §1) and check that the cells say what :func:`demo_truth` says, so the truth
really is what a perfect cleaner recovers.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from zhengshou_analysis import demo
from zhengshou_analysis.demo import (
    SYNTHETIC_LABEL,
    demo_expected_rejections,
    demo_truth,
    write_demo_ledgers,
)
from zhengshou_analysis.exceptions import ParameterError
from zhengshou_analysis.periods import months_between
from zhengshou_analysis.schemas import PII_WORDS, TABLES, pandas_dtype

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "data" / "demo"
AS_OF = pd.Timestamp("2022-12-31")
PLACEHOLDERS = {"X", "x", "XX", "—", "--", "-", "/", "无", "暂无", "待定", ""}


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    write_demo_ledgers(out)
    return out


@pytest.fixture(scope="module")
def truth(demo_truth_tables) -> dict[str, pd.DataFrame]:
    return demo_truth_tables


@pytest.fixture(scope="module")
def rejections() -> pd.DataFrame:
    return demo_expected_rejections()


# ------------------------------------------------------------------------------------ readers
def _nfkc(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _csv_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(_csv_text(path))))


def _is_pii(header: str) -> bool:
    return any(word in header for word in PII_WORDS)


def _is_na(value: object) -> bool:
    return value is None or (isinstance(value, str) and _nfkc(value) in PLACEHOLDERS)


def _number(value: object, scale: float = 1.0) -> float | None:
    """A number cell as docs/data_contract.md §1 reads it; a unit in the cell wins over ``scale``."""
    if _is_na(value):
        return None
    if isinstance(value, (int, float)):
        return float(value) * scale
    text = _nfkc(value).replace(",", "")
    text = text.removeprefix("约")
    text = re.sub(r"\(.*\)$", "", text)
    for suffix, factor in (("亿", 1e8), ("万元", 1e4), ("万平方米", 1e4), ("m2", 1.0), ("亩", 1.0)):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text) * scale


def _date(value: object) -> date | None:
    """A date cell as docs/data_contract.md §1 reads it (month-only → the 1st, 2021.1 → January)."""
    if _is_na(value):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        if 19000101 <= value <= 21001231:
            value = str(int(value))
        elif 1900 < value < 2100:
            return date(int(value), 1, 1)
        else:
            return date(1899, 12, 30) + timedelta(days=int(value))
    text = _nfkc(value)
    if m := re.fullmatch(r"(\d{4})[年./-](\d{1,2})[月./-](\d{1,2})日?", text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{4})(?:年(\d{1,2})月|\.(\d{2}))", text):
        return date(int(m[1]), int(m[2] or m[3]), 1)
    raise ValueError(f"not a date: {value!r}")


def _sheet(path: Path, name: str) -> list[list[object]]:
    return (
        CalamineWorkbook.from_path(str(path))
        .get_sheet_by_name(name)
        .to_python(skip_empty_area=False)
    )


def _records(rows: list[list[object]]) -> tuple[list[str], list[tuple[int, dict[str, object]]]]:
    """Header (two-row headers joined) and the data rows (those with a numeric 序号) by header."""
    h = next(i for i, row in enumerate(rows) if row and row[0] == "序号")
    header = [_nfkc(c).replace(" ", "") for c in rows[h]]
    sub = rows[h + 1] if h + 1 < len(rows) else []
    if sub and sub[0] == "" and any(sub):
        top = ""
        joined = []
        for c, s in zip(header, sub, strict=False):
            top = c or top
            joined.append(top + _nfkc(s) if s != "" else top)
        header = joined
    data = [
        (i + 1, dict(zip(header, row, strict=False)))
        for i, row in enumerate(rows)
        if i > h and row and isinstance(row[0], float)
    ]
    return header, data


def _ledger(generated: Path, file: str) -> dict[str, list[tuple[int, dict[str, object]]]]:
    book = CalamineWorkbook.from_path(str(generated / file))
    out = {}
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        if name != "信访登记" and any(row and row[0] == "序号" for row in rows):
            out[name] = _records(rows)[1]
    return out


def _first(record: dict[str, object], *names: str) -> object:
    for name in names:
        if name in record:
            return record[name]
    raise KeyError(names)


# ------------------------------------------------------------------------------------ files
def test_reproducible_and_equal_to_committed(generated: Path, tmp_path: Path) -> None:
    demo.clear_demo_cache()  # draw the district again, not from the cache
    again = write_demo_ledgers(tmp_path / "again")
    first = {p.name: _sha(p) for p in generated.iterdir()}
    second = {p.name: _sha(p) for p in again}
    assert first == second
    committed = {
        p.name: _sha(p) for p in COMMITTED.iterdir() if p.is_file() and not p.name.startswith(".")
    }
    assert committed == first, "data/demo is stale: run `zhengshou demo-data data/demo`"


def test_written_files_and_size(generated: Path, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("not a demo file", encoding="utf-8")
    paths = write_demo_ledgers(tmp_path, seed=2021)
    assert paths == sorted(paths)
    assert all(p.parent == tmp_path and p.is_file() for p in paths)
    assert {p.suffix for p in paths} == {".xlsx", ".csv", ".md", ".toml"}
    assert (tmp_path / "keep.txt").read_text(encoding="utf-8") == "not a demo file"
    assert sum(p.stat().st_size for p in paths) < 5_000_000


def test_every_sheet_title_is_labelled_synthetic(generated: Path) -> None:
    checked = 0
    for path in sorted(generated.glob("*.xlsx")):
        book = CalamineWorkbook.from_path(str(path))
        for name in book.sheet_names:
            first = book.get_sheet_by_name(name).to_python(skip_empty_area=False)[0]
            assert SYNTHETIC_LABEL in str(first[0]), (path.name, name, first)
            checked += 1
    for path in sorted(generated.glob("*.csv")):
        assert SYNTHETIC_LABEL in _csv_rows(path)[0][0], path.name
        checked += 1
    assert checked >= 20
    assert SYNTHETIC_LABEL in (generated / "README.md").read_text(encoding="utf-8")


def test_csv_encodings(generated: Path) -> None:
    raw = {p.name: p.read_bytes() for p in generated.glob("*.csv")}
    boms = [n for n, b in raw.items() if b.startswith(b"\xef\xbb\xbf")]
    assert len(boms) == 1
    not_utf8 = []
    for name, data in raw.items():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            not_utf8.append(name)
            data.decode("gbk")  # GBK files decode as GBK (and GB18030, its superset)
    assert len(not_utf8) == 2
    assert len(raw) - len(boms) - len(not_utf8) >= 2  # plain UTF-8 without BOM


def test_readme_covers_every_rule(generated: Path) -> None:
    text = (generated / "README.md").read_text(encoding="utf-8")
    table = text.split("## Messy formatting rules")[1].split("## The deliberate")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= len(demo.MESSY_RULES) + len(demo.DATE_RULES) + len(demo.PLACEHOLDERS)
    uncovered = [row for row in rows[1:] if row.rstrip().endswith("| — |")]
    assert not uncovered


# ------------------------------------------------------------------------------------ truth
def test_truth_has_the_canonical_schema(truth: dict[str, pd.DataFrame]) -> None:
    assert list(truth) == ["projects", "agreements", "payments", "funding", "sites", "transition"]
    for name, df in truth.items():
        t = TABLES[name]
        assert list(df.columns) == [c.name for c in t.columns], name
        for c in t.columns:
            assert str(df[c.name].dtype) == str(pd.Series([], dtype=pandas_dtype(c)).dtype), (
                name,
                c.name,
            )
        for col in t.required:
            assert df[col].notna().all(), (name, col)
        if t.key:
            assert not df.duplicated(list(t.key)).any(), name


def test_truth_is_a_copy(truth: dict[str, pd.DataFrame]) -> None:
    mine = demo_truth()
    mine["sites"].loc[0, "units"] = -1
    assert (demo_truth()["sites"]["units"].dropna() > 0).all()


def test_truth_shape(truth: dict[str, pd.DataFrame]) -> None:
    projects, agreements, sites = truth["projects"], truth["agreements"], truth["sites"]
    assert set(projects["year"]) == {2019, 2020, 2021, 2022}
    assert 55 <= projects["project_id"].nunique() <= 65
    assert set(projects["zone"]) == {"贵城片区", "港城片区", "城区外围片区"}
    assert set(projects["category"]) == {"市下达", "区统筹"}
    assert set(projects["sector"]) == {"交通", "文旅", "产业园区", "民生", "商住"}
    assert set(projects["blocker"].dropna()) == {
        "公建单位",
        "军事用地",
        "双高糖料蔗基地",
        "留用地",
        "资金",
    }
    assert (projects["land_done_mu"] <= projects["land_target_mu"] + 1e-9).all()
    assert len(agreements) >= 2000
    assert agreements["signed_date"].min() >= pd.Timestamp("2016-01-01")
    assert set(agreements["mode"]) == {"货币补偿", "产权调换"}
    assert 20_000 <= agreements["compensation_yuan"].median() <= 3_000_000
    assert agreements["compensation_yuan"].max() >= 2_000_000
    assert 10 <= len(sites) <= 14
    for name in ("蓝田安置区", "文华雅苑", "堤路园(二)A安置区", "白凹窝安置区", "三合安置区"):
        assert name in set(sites["site_name"])
    assert sites["start_date"].dt.year.between(2015, 2021).all()
    delivered = sites.dropna(subset=["delivered_date"])
    delay = (delivered["delivered_date"] - delivered["promised_date"]).dt.days
    assert (delay <= 62).any() and (delay > 365).any()  # on time and years late
    three_years_ago = AS_OF - pd.DateOffset(months=36)
    waiting = sites["delivered_date"].isna() & (sites["start_date"] <= three_years_ago)
    assert waiting.sum() >= 2
    tr = truth["transition"]
    assert set(tr["fee_basis"]) == {"per_m2", "per_household", "per_person"}
    assert tr["end_date"].isna().any() and tr["end_date"].notna().any()
    assert set(truth["funding"]["funding_source"]) == {
        "市财政",
        "区财政",
        "专项债券",
        "上级补助资金",
        "土地出让收入",
    }
    assert set(truth["payments"]["kind"]) == {"补偿款", "过渡安置费", "工作经费"}


def test_truth_links(truth: dict[str, pd.DataFrame]) -> None:
    ag, pay, tr = truth["agreements"], truth["payments"], truth["transition"]
    projects = set(truth["projects"]["project_id"])
    sites = set(truth["sites"]["site_id"])
    assert set(ag["project_id"]) <= projects
    assert set(pay["project_id"].dropna()) <= projects
    assert set(truth["funding"]["project_id"].dropna()) <= projects
    assert set(pay["agreement_id"].dropna()) <= set(ag["agreement_id"])
    assert pay.loc[pay["kind"] == "工作经费", "agreement_id"].isna().all()
    swaps = ag[ag["mode"] == "产权调换"]
    assert set(tr["agreement_id"]) <= set(swaps["agreement_id"])
    assert (
        swaps["site_id"].notna().all() and ag.loc[ag["mode"] == "货币补偿", "site_id"].isna().all()
    )
    assert set(ag["site_id"].dropna()) <= sites and set(tr["site_id"]) <= sites
    merged = tr.merge(ag, on="agreement_id", suffixes=("", "_ag"))
    assert (merged["site_id"] == merged["site_id_ag"]).all()
    assert (merged["start_date"] > merged["signed_date"]).all()
    assert (tr["end_date"].dropna() > tr.loc[tr["end_date"].notna(), "start_date"]).all()
    assert (pay["amount_yuan"] > 0).all() and (truth["funding"]["amount_yuan"] > 0).all()
    for name, df in truth.items():
        for col in df.columns:
            # events never lie after the reporting date (deadlines and promises may)
            if str(df[col].dtype).startswith("datetime") and col not in (
                "promised_date",
                "payment_due_date",
            ):
                assert df[col].max() <= AS_OF, (name, col)


def test_real_funding_gap_and_unpaid_gap_every_year(truth: dict[str, pd.DataFrame]) -> None:
    ag, pay, fund = truth["agreements"], truth["payments"], truth["funding"]
    comp = pay[pay["kind"] == "补偿款"]
    for year in range(2016, 2023):
        end = pd.Timestamp(year, 12, 31)
        signed = ag[ag["signed_date"] <= end]
        inflow = fund.loc[fund["date"] <= end, "amount_yuan"].sum()
        assert inflow < signed["compensation_yuan"].sum(), year
        paid = comp[comp["date"] <= end].groupby("agreement_id")["amount_yuan"].sum()
        owed = signed.set_index("agreement_id")["compensation_yuan"]
        gap = (owed - paid.reindex(owed.index).fillna(0)).clip(lower=0).sum()
        assert gap > 0.1 * owed.sum() if year >= 2019 else gap > 0, year
    late = comp.merge(ag, on="agreement_id")
    assert (late["date"] > late["payment_due_date"]).mean() > 0.5  # payments are mostly late


def test_transition_fees_fall_into_arrears(truth: dict[str, pd.DataFrame]) -> None:
    tr, pay = truth["transition"], truth["payments"]
    fees = pay[pay["kind"] == "过渡安置费"].groupby("agreement_id")["amount_yuan"].sum()
    base = tr["fee_rate_yuan"] * tr["area_m2"].where(tr["fee_basis"] == "per_m2", 1.0)
    base = base * tr["persons"].astype("float64").where(tr["fee_basis"] == "per_person", 1.0)
    end = tr["end_date"].fillna(AS_OF)
    owed = base * months_between(tr["start_date"], end).astype("float64").to_numpy()
    paid = fees.reindex(tr["agreement_id"]).fillna(0).to_numpy()
    assert (owed - paid).clip(lower=0).sum() > 0.05 * owed.sum()
    assert (paid <= owed + 1.0).all()  # never paid ahead of the months charged (cents rounded)


# ------------------------------------------------------------------------------------ raw vs truth
def test_payment_files_read_as_the_truth(generated: Path, truth: dict[str, pd.DataFrame]) -> None:
    expected = truth["payments"].set_index("payment_id")
    names = dict(
        zip(truth["projects"]["project_name"], truth["projects"]["project_id"], strict=False)
    )
    seen = 0
    for path in sorted(generated.glob("*.csv")):
        rows = _csv_rows(path)
        header = [_nfkc(h) for h in rows[1]]
        assert any(_is_pii(h) for h in header), path.name
        for row in rows[2:]:
            if len(row) < 2:
                continue
            rec = dict(zip(header, row, strict=True))
            pid = rec["凭证号"]
            if pid not in expected.index:
                continue  # a planted bad row (checked below)
            want = expected.loc[pid]
            when = _first(rec, "支付日期", "付款日期", "拨付日期")
            assert pd.Timestamp(_date(when)) == want["date"], (path.name, pid)
            amount = _number(_first(rec, "支付金额(元)", "金额", "拨付金额(元)"))
            assert amount == pytest.approx(want["amount_yuan"], abs=0.005), (path.name, pid)
            written = _first(rec, "项目编号", "项目名称")
            project = None if _is_na(written) else names.get(_nfkc(written), written)
            assert project == (None if pd.isna(want["project_id"]) else want["project_id"])
            seen += 1
    assert seen == len(expected)


def test_agreement_ledgers_read_as_the_truth(
    generated: Path, truth: dict[str, pd.DataFrame], rejections: pd.DataFrame
) -> None:
    expected = truth["agreements"].set_index("agreement_id")
    names = dict(
        zip(truth["projects"]["project_name"], truth["projects"]["project_id"], strict=False)
    )
    bad = {(r.sheet, r.row) for r in rejections.itertuples() if r.table == "agreements"}
    seen = 0
    for file, scale in (
        ("征收补偿协议台账_2016-2020.xlsx", 1.0),
        ("征收补偿协议台账_2021-2022.xlsx", 1e4),
    ):
        for sheet, records in _ledger(generated, file).items():
            for row, rec in records:
                assert any(_is_pii(h) for h in rec), (file, sheet)
                if (sheet, row) in bad:
                    continue
                aid = _first(rec, "协议编号", "协议号")
                want = expected.loc[aid]
                signed = _date(_first(rec, "签约日期", "协议签订日期"))
                assert pd.Timestamp(signed) == want["signed_date"], (file, sheet, row)
                comp = _number(_first(rec, "补偿总额(元)", "协议金额"), scale)
                assert comp == pytest.approx(want["compensation_yuan"], abs=0.005), (sheet, row)
                area = _number(_first(rec, "被征收房屋面积(m2)", "建筑面积(平方米)"))
                assert (area is None) == pd.isna(want["house_area_m2"])
                due = _date(rec["支付期限"]) if "支付期限" in rec else None
                if due is None:  # no column, or a placeholder: the ledger states none (NA)
                    assert pd.isna(want["payment_due_date"]), (sheet, row)
                else:
                    assert pd.Timestamp(due) == want["payment_due_date"]
                project = rec.get("项目编号") or names[_nfkc(rec["项目名称"])]
                assert project == want["project_id"]
                site = _first(rec, "安置区", "安置小区")
                site_id = None if _is_na(site) else _nfkc(site).replace(" ", "")
                assert site_id == (None if pd.isna(want["site_id"]) else want["site_id"])
                seen += 1
    assert seen == len(expected)


def test_funding_sites_and_transition_read_as_the_truth(
    generated: Path, truth: dict[str, pd.DataFrame], rejections: pd.DataFrame
) -> None:
    # funding: the multiset of (date, amount) over every sheet
    got = Counter()
    for records in _ledger(generated, "征拆资金到位情况表_2016-2022.xlsx").values():
        for _, rec in records:
            got[
                (pd.Timestamp(_date(rec["到账日期"])), round(_number(rec["到位金额"], 1e4), 2))
            ] += 1
    fund = truth["funding"]
    assert got == Counter(zip(fund["date"], fund["amount_yuan"].round(2), strict=True))
    assert pd.Timestamp("2021-01-01") in set(fund["date"])  # the ambiguous 2021.1
    # sites: dates as read (month-only → the 1st), undelivered words → NA
    sites = truth["sites"].set_index("site_id")
    (records,) = _ledger(generated, "安置区建设情况表.xlsx").values()
    assert len(records) == len(sites)
    for _, rec in records:
        want = sites.loc[_nfkc(rec["安置区名称"]).replace(" ", "")]
        assert pd.Timestamp(_date(rec["开工时间"])) == want["start_date"]
        assert pd.Timestamp(_date(rec["计划交房日期"])) == want["promised_date"]
        delivered = rec["实际交房日期"]
        if delivered in ("未交付", "在建"):
            assert pd.isna(want["delivered_date"])
        else:
            assert pd.Timestamp(_date(delivered)) == want["delivered_date"]
    # transition: per household; basis from the header or the 计费方式 column
    tr = truth["transition"].set_index("agreement_id")
    bad = {(r.sheet, r.row) for r in rejections.itertuples() if r.table == "transition"}
    basis_words = {
        "按面积": "per_m2",
        "元/平方米/月": "per_m2",
        "按户": "per_household",
        "元/户/月": "per_household",
        "按人": "per_person",
        "元/人/月": "per_person",
    }
    seen = 0
    for sheet, records in _ledger(generated, "过渡安置台账.xlsx").items():
        for row, rec in records:
            if (sheet, row) in bad:
                continue
            want = tr.loc[rec["协议编号"]]
            start = _date(_first(rec, "腾房日期", "交房腾空日期", "过渡开始日期"))
            assert pd.Timestamp(start) == want["start_date"]
            end = _date(_first(rec, "回迁日期", "过渡结束日期"))
            assert (end is None) == pd.isna(want["end_date"])
            basis = basis_words[rec["计费方式"]] if "计费方式" in rec else "per_m2"
            assert basis == want["fee_basis"]
            rate = _first(rec, "过渡费标准(元/平方米/月)", "过渡安置费标准")
            assert rate == want["fee_rate_yuan"]
            assert _nfkc(rec["安置区"]).replace(" ", "") == want["site_id"]
            agreed = rec.get("约定过渡期限(月)", rec.get("过渡期限(月)"))
            if agreed is None:  # no period column: the ledger states none (NA)
                assert pd.isna(want["agreed_months"])
            else:
                assert agreed == want["agreed_months"]
            seen += 1
    assert seen == len(tr)


def test_project_totals_and_the_one_planted_mismatch(
    generated: Path, truth: dict[str, pd.DataFrame]
) -> None:
    file = "征收项目任务完成情况表_2019-2022.xlsx"
    mismatch = demo.demo_total_mismatch(2021)
    projects = truth["projects"].set_index(["project_id", "year"])
    found = []
    for year in (2019, 2020, 2021, 2022):
        rows = _sheet(generated / file, f"{year}年")
        header, records = _records(rows)
        land_done = next(i for i, h in enumerate(header) if "征地" in h and "完成" in h)
        house_col = next(i for i, h in enumerate(header) if "房屋" in h and "完成" in h)
        scale = 1e4 if "万平方米" in header[house_col] else 1.0
        details = 0.0
        for _, rec in records:
            pid = _first(rec, "项目编号", "项目代码")
            want = projects.loc[(pid, year)]
            value = _number(rec[header[land_done]])
            assert value == pytest.approx(want["land_done_mu"]), (year, pid)
            house = _number(rec[header[house_col]], scale)
            assert (house is None) == pd.isna(want["house_done_m2"])
            if house is not None:
                assert house == pytest.approx(want["house_done_m2"]), (year, pid)
            details += value
        assert details == pytest.approx(
            truth["projects"].query("year == @year")["land_done_mu"].sum()
        )
        total_row = next(i for i, row in enumerate(rows) if row[0] == "合计")
        stated = _number(rows[total_row][land_done])
        subs = [i for i, row in enumerate(rows) if str(row[0]).startswith("其中")]
        assert len(subs) == 2 and sum(_number(rows[i][land_done]) for i in subs) == pytest.approx(
            details
        )
        if stated != pytest.approx(details, abs=0.01):
            found.append((year, total_row + 1, stated, round(details, 2)))
    assert found == [(2021, mismatch["row"], mismatch["stated"], mismatch["detail_sum"])]
    assert mismatch["stated"] - mismatch["detail_sum"] == pytest.approx(100.0)


# ------------------------------------------------------------------------------------ bad rows
def test_planted_bad_rows_are_in_the_files(
    generated: Path, truth: dict[str, pd.DataFrame], rejections: pd.DataFrame
) -> None:
    assert list(rejections.columns) == ["file", "sheet", "row", "table", "reason"]
    assert 3 <= len(rejections) <= 8
    assert set(rejections["table"]) == {"agreements", "payments", "transition"}
    agreements = truth["agreements"].set_index("agreement_id")
    kinds = set()
    for rej in rejections.itertuples():
        path = generated / rej.file
        if path.suffix == ".csv":
            rows = _csv_rows(path)
            rec = dict(zip([_nfkc(h) for h in rows[1]], rows[rej.row - 1], strict=True))
            assert rec["凭证号"] not in set(truth["payments"]["payment_id"])
            amount = _number(_first(rec, "金额", "拨付金额(元)", "支付金额(元)"))
            when = _first(rec, "支付日期", "付款日期", "拨付日期")
            if amount < 0:
                kinds.add("negative amount")
            else:
                with pytest.raises(ValueError, match="day is out of range"):
                    _date(when)
                kinds.add("unparseable date")
            continue
        _, records = _records(_sheet(path, rej.sheet))
        rec = dict(records)[rej.row]
        if rej.table == "agreements":
            aid = _first(rec, "协议号", "协议编号")
            signed = _first(rec, "协议签订日期", "签约日期")
            if isinstance(signed, str) and "2月30日" in signed:
                with pytest.raises(ValueError, match="day is out of range"):
                    _date(signed)
                assert aid not in agreements.index
                kinds.add("unparseable date")
            else:
                first_row = int(re.search(r"first at row (\d+)", rej.reason)[1])
                first = dict(records)[first_row]
                assert _first(first, "协议号", "协议编号") == aid
                assert _number(rec["协议金额"], 1e4) != agreements.loc[aid, "compensation_yuan"]
                assert _number(first["协议金额"], 1e4) == pytest.approx(
                    agreements.loc[aid, "compensation_yuan"]
                )
                kinds.add("duplicate key")
        else:
            assert rec["协议编号"] not in set(truth["transition"]["agreement_id"])
            assert agreements.loc[rec["协议编号"], "mode"] == "产权调换"
            if rec["计费方式"] == "按间":
                kinds.add("unknown basis")
            else:
                assert _date(rec["回迁日期"]) < _date(rec["过渡开始日期"])
                kinds.add("end before start")
    assert kinds == {
        "negative amount",
        "unparseable date",
        "duplicate key",
        "unknown basis",
        "end before start",
    }


def test_personal_data_is_fictitious(generated: Path) -> None:
    records = _ledger(generated, "过渡安置台账.xlsx")["按户按人计费"]
    ids = [str(rec["身份证号码"]) for _, rec in records]
    phones = [str(rec["联系电话"]) for _, rec in records]
    assert all(len(i) == 18 and i.startswith("999") for i in ids)
    assert all(len(p) == 11 and p.startswith("100") for p in phones)
    assert all("某" in str(rec["姓名"]) for _, rec in records)


# ------------------------------------------------------------------------------------ seeds
def test_other_seed_differs_but_keeps_the_shape() -> None:
    other = demo_truth(7)
    base = demo_truth(2021)
    assert not other["agreements"]["compensation_yuan"].equals(
        base["agreements"]["compensation_yuan"]
    )
    assert len(other["agreements"]) >= 2000
    assert set(other["projects"]["year"]) == {2019, 2020, 2021, 2022}
    assert len(demo_expected_rejections(7)) == len(demo_expected_rejections(2021))


@pytest.mark.parametrize("seed", [-1, 1.5, "2021", True])
def test_bad_seed_is_refused(seed: object) -> None:
    with pytest.raises(ParameterError, match="seed"):
        demo_truth(seed)  # type: ignore[arg-type]
