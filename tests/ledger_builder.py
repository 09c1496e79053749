"""Build small messy ledgers for tests: xlsx (with real merged cells, hidden sheets) and CSV."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlsxwriter

D = dt.date

#: Text a clerk might paste into a ledger: it must be shown as text in every report.
HOSTILE_NAME = "糖厂地块<script>alert('x')</script>"
HOSTILE_NOTE = '=HYPERLINK("http://evil") <img src=x onerror=alert(1)> **粗体** [链接](http://evil)'
#: Personal data planted in the ledgers; it must not appear in any output.
PERSONAL_DATA = ["王小明", "450802199001011234", "13800001111", "李四光", "13900002222"]

Cell = object


def write_xlsx(path: Path, sheets: dict[str, dict]) -> Path:
    """Write a workbook. Each sheet: {"rows": [[...]], "merges": [(r0, c0, r1, c1, value)],
    "hidden": bool}; datetimes are written as real Excel dates, other values as they are."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": dt.datetime(2022, 1, 1)})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, spec in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(spec.get("rows", [])):
            for c, v in enumerate(row):
                if v is None or v == "":
                    continue
                if isinstance(v, dt.datetime | dt.date):
                    ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), date_fmt)
                elif isinstance(v, str):
                    ws.write_string(r, c, v)  # text as typed, even "=…" (not a formula)
                else:
                    ws.write(r, c, v)
        for r0, c0, r1, c1, v in spec.get("merges", []):
            ws.merge_range(r0, c0, r1, c1, v)
        if spec.get("hidden"):
            ws.hide()
    wb.close()
    return path


def write_csv(path: Path, rows: list[list[Cell]], encoding: str = "utf-8") -> Path:
    text = "\r\n".join(",".join(_csv_cell(v) for v in row) for row in rows) + "\r\n"
    path.write_bytes(text.encode(encoding))
    return path


def _csv_cell(v: Cell) -> str:
    s = "" if v is None else str(v)
    if any(ch in s for ch in ',"\n'):
        s = '"' + s.replace('"', '""') + '"'
    return s


def build_raw(raw: Path) -> Path:
    """A raw folder with one messy ledger per table (the comments give each row's fate)."""
    raw.mkdir(parents=True, exist_ok=True)
    head_top = [
        "序号",
        "片区",
        "项目编号",
        "项目名称",
        "类别",
        "征地（亩）",
        "",
        "房屋征收（万平方米）",
        "",
        "卡点类型",
        "卡点面积（亩）",
        "备注",
    ]
    head_bottom = ["", "", "", "", "", "任务", "已完成", "任务", "已完成", "", "", ""]
    projects = [
        ["XX区2021年征收项目任务完成情况表（示例数据（模拟））"],  # r1 title
        ["单位：亩、万平方米"],  # r2 unit row
        [],  # r3 blank above header
        head_top,  # r4 header (top)
        head_bottom,  # r5 header (bottom)
        [1, "贵城片区", "GG-001", "南湖路征收", "市下达", 120, 100.5, 3.5, 2, "无", 0, ""],
        [2, "", "GG-002", "军营片区征收", "区统筹", "１５０", "X", 1, 1, "军事用地", 49.5, ""],
        [3, "", "GG-003", HOSTILE_NAME, "统筹", 80, 80, "—", "—", "双高基地", "约20", "待复核"],
        ["", "", "", "小计", "", 350, 180.5, 4.5, 3, "", 69.5, ""],  # r9 subtotal (agrees)
        [4, "港城", "GG-004", "港北大道", "市本级", 60, 30, 0, 0, "公建", 30, HOSTILE_NOTE],
        ["", "", "", "其中：市下达", "", 180, 130.5, 3.5, 2, "", 30, ""],  # r11 其中 (not added)
        ["合计", "", "", "", "", 410, 210.5, 4.5, 3.5, "", 99.5, ""],  # r12 total: house done wrong
        [],
        ["填表人：张三    审核人：李四"],
        ["注：示例"],
    ]
    merges = [
        (0, 0, 0, 11, projects[0][0]),
        (3, 5, 3, 6, "征地（亩）"),
        (3, 7, 3, 8, "房屋征收（万平方米）"),
        (3, 0, 4, 0, "序号"),
        (3, 1, 4, 1, "片区"),
        (3, 2, 4, 2, "项目编号"),
        (3, 3, 4, 3, "项目名称"),
        (3, 4, 4, 4, "类别"),
        (3, 9, 4, 9, "卡点类型"),
        (3, 10, 4, 10, "卡点面积（亩）"),
        (3, 11, 4, 11, "备注"),
        (5, 1, 7, 1, "贵城片区"),
    ]
    for r0, c0, r1, c1, _ in merges:  # merged cells hold their value only in the first cell
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0) and c < len(projects[r]):
                    projects[r][c] = ""
    write_xlsx(
        raw / "项目台账.xlsx",
        {
            "2021年": {"rows": projects, "merges": merges},
            "说明": {"rows": [["本台账为示例"], ["各列含义见数据字典"]]},
            "旧版": {
                "rows": [["项目名称", "年度", "征地任务"], ["旧项目", 2020, 1]],
                "hidden": True,
            },
        },
    )

    agreements = [
        ["XX区征收补偿协议台账（示例数据（模拟））"],
        ["单位：万元"],
        [
            "序号",
            "协 议 编 号",
            "被征收人",
            "身份证号",
            "联系电话",
            "项目名称",
            "签约日期",
            "补偿方式",
            "房屋面积（㎡）",
            "补偿总额",
            "安置区",
        ],
        [
            1,
            "GC-001",
            "王小明",
            "450802199001011234",
            "13800001111",
            "南湖路征收",
            "2021年1月30日",
            "货币",
            "120.5",
            "1,234.5",
            "",
        ],
        [
            2,
            "GC-002",
            "李四光",
            "450802198502023456",
            "13900002222",
            "南 湖 路 征 收",
            "2021.3.15",
            "产权调换",
            95,
            "约88.8",
            "蓝田安置区",
        ],
        [
            3,
            "GC-003",
            "赵五",
            "",
            "",
            "不存在项目",
            44226,
            "房屋安置",
            "—",
            "50（含奖励）",
            "堤路园（二）A安置区",
        ],
        [
            4,
            "GC-002",
            "钱六",
            "",
            "",
            "南湖路征收",
            "2021/04/01",
            "货币",
            10,
            5,
            "",
        ],  # duplicate key
        [5, "GC-005", "孙七", "", "", "港北大道", "X", "货币", 10, 5, ""],  # no signed date
        [
            6,
            "GC-006",
            "周八",
            "",
            "",
            "港北大道",
            20210601,
            "现金",
            10,
            "-3",
            "",
        ],  # negative amount
        ["合计", "", "", "", "", "", "", "", "", 1380.3, ""],
    ]
    write_xlsx(raw / "协议台账.xlsx", {"贵城片区": {"rows": agreements}})

    write_csv(
        raw / "支付台账2021.csv",
        [
            [
                "支付编号",
                "支付日期",
                "协议编号",
                "项目名称",
                "款项类型",
                "支付金额（元）",
                "收款人",
            ],
            ["PAY-1", "2021-02-01", "GC-001", "南湖路征收", "补偿款", "5,000,000", "王小明"],
            ["PAY-2", "2021.3.1", "GC-002", "南湖路征收", "过渡费", "3,600", "李四光"],
            ["PAY-3", "20210401", "", "港北大道", "工作经费", "2万元", ""],
            ["PAY-4", "2021/5/1", "GC-001", "南湖路征收", "补偿款", "-100", "王小明"],  # negative
            ["PAY-5", "2021年6月", "GC-003", "", "补偿款", "0", ""],  # zero
        ],
        encoding="gbk",
    )

    write_csv(
        raw / "资金到位情况.csv",
        [
            ["XX区2021年征拆资金到位情况表"],
            ["单位：万元"],
            ["到账日期", "资金来源", "到位金额", "项目名称"],
            ["2021-01-15", "市财政", "500", ""],
            ["2021-06-30", "专项债券", "3.2亿", "南湖路征收"],
            ["2021-12-20", "区财政", "1,234.5", ""],
            ["合计", "", "33,734.5", ""],
            ["注：示例数据"],
        ],
        encoding="utf-8-sig",
    )

    write_xlsx(
        raw / "安置区台账.xlsx",
        {
            "安置区": {
                "rows": [
                    ["安置区名称", "片区", "开工日期", "计划交房日期", "实际交房日期", "套数"],
                    ["蓝田安置区", "贵城", D(2017, 3, 1), D(2022, 12, 31), "未交付", 800],
                    ["堤路园(二)A安置区", "港城", "2018.5.1", "2021.12", "2021年6月30日", "600套"],
                    [
                        "文华雅苑",
                        "外围",
                        "2019-01-01",
                        "2018-12-31",
                        "",
                        300,
                    ],  # promised before start
                ]
            }
        },
    )

    write_xlsx(
        raw / "过渡安置台账.xlsx",
        {
            "过渡": {
                "rows": [
                    ["XX区过渡安置台账（示例数据（模拟））"],
                    [
                        "协议编号",
                        "户主姓名",
                        "安置区",
                        "腾房日期",
                        "回迁日期",
                        "过渡费标准（元/平方米/月）",
                        "计费面积",
                    ],
                    ["GC-002", "李四光", "蓝田安置区", "2021-04-01", "", 10, 95],
                    ["GC-003", "赵五", "堤路园（二）A安置区", "2021-02-15", "2021-08-01", 12, 80],
                    [
                        "GC-009",
                        "某甲",
                        "蓝田安置区",
                        "2021-05-01",
                        "2021-04-01",
                        10,
                        50,
                    ],  # ends before start
                    [
                        "GC-010",
                        "某乙",
                        "蓝田安置区",
                        "2021-05-01",
                        "",
                        10,
                        "X",
                    ],  # per_m2 without area
                ]
            }
        },
    )
    return raw


def frame(name: str, rows: list[dict]):
    """A canonical table with the full schema from a few hand-written rows (origins made up)."""
    import pandas as pd

    from zhengshou_analysis.schemas import empty_table

    schema = empty_table(name)
    rows = [{"origin": f"{name}.xlsx#S!{i + 2}", **r} for i, r in enumerate(rows)]
    df = pd.DataFrame(rows, columns=list(schema.columns))
    out = {}
    for c, dtype in schema.dtypes.items():
        col = df[c]
        if str(dtype).startswith("datetime64"):
            col = pd.to_datetime(col)
        out[c] = col.astype(dtype)
    return pd.DataFrame(out)
