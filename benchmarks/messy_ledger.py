"""A large messy agreements ledger for the ingest benchmark (every messy rule of docs/data_contract.md §1).

One workbook, one sheet, ``n`` data rows: title, unit and date rows above a header with spaces and a
units bracket; personal-data columns; vertically merged 片区 cells; dates in every form (Chinese,
dotted, slashed, dashed, yyyymmdd as text and number, Excel serials, real dates, month-only and the
ambiguous float ``2021.1``); numbers with separators, units (万元/亿/㎡), 约, remarks and full-width
digits; placeholders; a 小计 every 500 rows, 其中 rows, a 合计 and notes; a few bad rows (duplicate
keys, negative amounts, unparseable dates). Deterministic for a given ``n`` and ``seed``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import xlsxwriter

ZONES = ("贵城片区", "港城片区", "城区外围片区")
DATE_FORMS = (
    "{y}年{m}月{d}日",
    "{y}.{m}.{d}",
    "{y}/{m:02d}/{d:02d}",
    "{y}-{m}-{d}",
    "{y}{m:02d}{d:02d}",
)
AREAS = ("120.5", "１２０", 95, "—", "2000㎡", "约80", "X", 88.5)
AMOUNTS = (
    "1,234.5",
    "约88.8",
    "50（含奖励）",
    12.5,
    "0.32亿",
    "待定",
    "１２３．５",
    "1,050.25万元",
)


def write_messy_agreements(path: Path, n: int = 100_000, *, seed: int = 7) -> Path:
    """Write the ledger to ``path`` and return it (about 5 MB for 100,000 rows)."""
    rng = np.random.default_rng(seed)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    wb.set_properties({"created": dt.datetime(2022, 1, 1)})  # noqa: DTZ001 - a fixed file date
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("协议台账")
    ws.write_row(0, 0, ["XX区征收补偿协议台账（示例数据（模拟））"])
    ws.write_row(1, 0, ["单位：万元", "", "", "截至2022年12月31日"])
    headers = [
        "序号",
        "片区",
        "协 议 编 号",
        "被征收人",
        "身份证号",
        "项目名称",
        "签约日期",
        "补偿方式",
        "房屋面积（㎡）",
        "补偿总额",
        "支付期限",
        "安置区",
        "备注",
    ]
    ws.write_row(2, 0, headers)
    r = 3
    group_start = r
    zone = 0
    days = rng.integers(0, 2500, size=n)
    for i in range(n):
        if i and i % 500 == 0:  # a 小计 per block of 500, then a 其中 row
            ws.write_row(
                r, 0, ["", "", "", "", "", "小计", "", "", "", 0]
            )  # stated 0: a mismatch warning
            ws.write_row(r + 1, 0, ["", "", "", "", "", "其中：货币补偿", "", "", "", 0])
            if r - 1 > group_start:  # the zone, written once for its block (merged cells)
                ws.merge_range(group_start, 1, r - 1, 1, ZONES[zone])
            zone = (zone + 1) % 3
            r += 2
            group_start = r
        date = dt.date(2016, 1, 1) + dt.timedelta(days=int(days[i]))
        y, m, d = date.year, date.month, date.day
        k = i % 10
        agreement = f"GC-{i:06d}" if i % 997 else f"GC-{i - 1:06d}"  # a duplicate now and then
        ws.write(r, 0, i + 1)
        ws.write(r, 2, agreement)
        ws.write(r, 3, "张三")
        ws.write(r, 4, "450802199001011234")
        ws.write(r, 5, f"项目{i % 60}" if i % 1001 else "台账外项目")
        if k < 5:
            ws.write(r, 6, DATE_FORMS[k].format(y=y, m=m, d=d))
        elif k == 5:
            ws.write_datetime(r, 6, dt.datetime(y, m, d), date_fmt)  # noqa: DTZ001
        elif k == 6:
            ws.write(r, 6, (date - dt.date(1899, 12, 30)).days)
        elif k == 7:
            ws.write(r, 6, int(f"{y}{m:02d}{d:02d}"))
        elif k == 8:
            ws.write(r, 6, f"{y}年{m}月")
        else:
            ws.write(r, 6, 2021.1 if i % 20 == 9 else f"{y}.{m:02d}")
        if i % 1499 == 0:
            ws.write(r, 6, "2021年2月30日")  # unparseable: rejected
        ws.write(r, 7, ("货币", "产权调换", "现金", "房屋安置")[i % 4])
        ws.write(r, 8, AREAS[i % len(AREAS)])
        ws.write(r, 9, "-3" if i % 1777 == 0 else AMOUNTS[i % len(AMOUNTS)])
        ws.write(r, 10, "" if i % 3 else f"{y + 1}年{m}月")
        ws.write(r, 11, ("蓝田安置区", "", "堤路园（二）A安置区", "文华雅苑")[i % 4])
        ws.write(r, 12, "" if i % 7 else "其中2户未签约")
        r += 1
    if r - 1 > group_start:
        ws.merge_range(group_start, 1, r - 1, 1, ZONES[zone])
    ws.write_row(r, 0, ["合计"])
    ws.write_row(r + 2, 0, ["填表人：某某    审核人：某某"])
    ws.write_row(r + 3, 0, ["注：本表为基准测试生成的模拟数据"])
    wb.close()
    return path
