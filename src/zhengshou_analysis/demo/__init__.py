"""Synthetic demo district (示例数据（模拟）): a seeded generator of messy raw ledgers.

What it models
--------------
A district land and house expropriation office (区土地房屋征收办) of Guigang, Guangxi, in the situation
its 2021 work summary describes. No figure here is a real statistic; only the names of the three 片区,
five resettlement sites and the kinds of "last mile" blockers come from the source document.

* Expropriation **funds arrive late and short**, so signed agreements wait for payment: an unpaid gap
  exists at every year end.
* Households who chose 产权调换 (a flat instead of cash) **wait for their resettlement flat**, so the
  transitional fee (过渡安置费) piles up and its payments fall into arrears.
* Several resettlement sites are **more than 3 years late** (蓝田安置区, 文华雅苑, 白凹窝安置区 are still not
  delivered at 2022-12-31; 堤路园(二)A安置区 and 三合安置区 were delivered years late).
* "Last mile" projects are **blocked** by 公建单位, 军事用地, 双高糖料蔗基地, 留用地 or 资金.

Task years 2019–2022 (the reporting years); agreements, payments and funding from 2016 on; site history
from 2015; everything as of 2022-12-31 (nothing after that date exists in the ledgers).

Random structure
----------------
One :func:`numpy.random.default_rng` per component, seeded with ``[seed, crc32(component name)]``, so
a change to one component leaves the others' draws alone. Lists are iterated in a sorted,
deterministic order, and nothing else is random. The same seed gives byte-identical files.

* **Sites** (12; ``DemoConfig.site_plan``): zone, start month, promised duration (24/30/36 months) and fate
  (on time / late by a range of months / open, i.e. not delivered) are fixed by design; start day,
  delays and 套数 are drawn.
* **Projects** (60: 22 贵城片区, 20 港城片区, 18 城区外围片区): sector (交通, 文旅, 产业园区, 民生, 商住),
  category (市下达 55 %, 区统筹), start year 2016–2022, planned duration 2–5 years; land target
  lognormal (median 150 亩), house target from its households (median about 8 000 m²). 14 projects
  are blocked from a year between 2019 and 2022 (4 公建单位, 2 军事用地, 3 双高糖料蔗基地, 3 留用地,
  2 资金); their land progress stalls at 70–95 % and ``blocked_mu`` is the remaining land.
  ``land_done_mu`` and ``house_done_m2`` are cumulative at each year end; ``house_done_m2`` is the
  area of the project's agreements signed by then.
* **Agreements** (about 2 700): per house project, households with lognormal areas (median 150 m²),
  signed over the project's life (beta-distributed). Mode 产权调换 with probability 0.3–0.45 by
  sector when a site of the zone is under construction and not about to be delivered, else 货币补偿.
  Compensation = area × zone price (2 800 / 4 200 / 4 800 元/m² ± 15 %) × 1.05–1.25, whole yuan;
  a swap household gets 12–30 % of that in cash. Payment term 30/60/90/180 days where the ledger
  states one, else 30 days.
* **Payments**: compensation in 1–3 tranches; the first one lags the due date by a gamma delay whose
  mean grows from 20 days (2016) to 200 days (2022); 20 % of agreements are paid short. Transitional
  fees are paid monthly (20 %) or quarterly, in advance, with a delay growing from 10 to 110 days
  and a chance of a missed payment growing from 2 % to 20 % (arrears). 工作经费 (work funds) each
  quarter per zone, 70 % not tied to a project. Nothing dated after 2022-12-31 is kept.
* **Funding**: each year's inflow is 0.96–1.04 × that year's payments (plus a 500 万 opening
  balance in 2016), split with noisy yearly shares over 市财政 (monthly, year-end heavy), 区财政 (quarterly), 专项债券 (1–2 lumps
  from 2019), 上级补助资金 (2 a year) and 土地出让收入 (June, November, December). Cumulative inflow
  stays well below cumulative signed compensation: a real funding gap.
* **Transition**: every 产权调换 household that has moved out (腾房 10–90 days after signing); end = the
  site's delivery + 30–90 days, or open. Fee basis per_m2 (70 %, 8–15 元/m²/月), per_household
  (15 %, 800–1 500 元/户/月) or per_person (15 %, 300–500 元/人/月, 1–6 persons). Agreed period
  24/30/36 months where the ledger states it.

Truth and rendering
-------------------
The generator first draws the district, then writes it cell by cell; every cell writer returns the
value docs/data_contract.md reads from that cell, and that value is what :func:`demo_truth` holds. So a
perfect cleaner recovers :func:`demo_truth` exactly (up to float rounding and row order), and rejects
exactly the rows of :func:`demo_expected_rejections`. Conventions of the truth:

* money in yuan rounded to 0.01 (compensation is whole yuan), areas in m² and 亩, dates at day
  precision; month-only dates (``2021年1月``, ``2021.01``) are the 1st of the month; the float
  ``2021.1`` in a date column (Excel's rendering of ``2021.10``) is **January 1st** as the contract
  reads it (the latent date was in October);
* ``payment_due_date`` of agreements from the 2021–2022 workbook (no 支付期限 column) is NA, and
  so is that of a 支付期限 cell holding a placeholder (``待定``, ``--``): the ledger gives no due
  date for that agreement, and the figures apply the office's payment term
  (:class:`~zhengshou_analysis.settings.Policy`);
* ``agreed_months`` of the transition sheet without a 过渡期限 column is NA (the figures take it
  from the site's promised date);
* ``site_id`` columns (sites, agreements, transition) hold the site **name**, NFKC-normalised with
  spaces removed; the cleaner derives its own id (``S-`` + hash) and tests map names to ids;
* ``project_id`` is the 项目编号 of the project ledger; a sheet that names projects by 项目名称 maps to
  the id of that name; ``payment_id`` is the 凭证号, present in every payment file.

Messy rules (docs/data_contract.md §1) and where they appear
----------------------------------------------------
(``data/demo/README.md``, written by :func:`write_demo_ledgers`, lists the exact sheets; beside it,
``data/demo/zhengshou.toml`` is the demo office's profile, :func:`render_demo_profile`.)

* title, unit and date rows above the header, every title saying ``示例数据（模拟）`` (every sheet,
  and the first line of every CSV); ``单位：万元`` in the funding workbook and the 2021–2022 agreements
  workbook, applying to 到位金额 / 协议金额 whose headers name no unit;
* two-row merged headers in the projects workbook: ``征地（亩）`` and ``房屋征收（万平方米）`` over
  ``任务``/``已完成`` (2019, 2020) or ``目标任务``/``累计完成`` (2021), and the other orientation,
  ``任务`` and ``已完成`` over ``征地（亩）``/``房屋（平方米）`` (2022);
* vertically merged 片区 and 类别 cells (projects), 资金来源 (funding), 片区 (sites);
* ``小计`` per zone and ``合计`` with ``其中：市下达``/``其中：区统筹`` (projects), ``合计`` (agreements
  2016–2020), ``小计`` per source and ``合计`` (funding), ``总计`` (sites); one deliberate mismatch:
  the 2021 projects ``合计`` of 累计完成征地 is 100 亩 too high;
* trailing notes (``填表人：``, ``审核人：``, ``备注：``, ``注：``) below the projects, agreements,
  funding, sites and transition tables and at the end of the 2019 payments CSV;
* full-width digits (``１２３．５``) in projects 2020, agreements, funding, payments 2021; full-width
  brackets in headers everywhere and in 安置区 names;
* numbers as text: thousands separators (agreements, funding, payments), unit suffixes (``万元``,
  ``亿``, ``亩``, ``万平方米``, ``㎡``), leading ``约`` (agreements, projects 2021, funding), a trailing
  remark ``（含工作经费）`` (funding), percentages in 完成率 / 形象进度 (map to nothing);
* placeholders ``X x XX — -- - / 无 暂无 待定`` and empty cells in optional columns; ``0`` as a real 0
  (land of house-only projects);
* dates in every written form: ``2021年1月30日``, ``2021.1.30``, ``2021/01/30``, ``2021-1-30``,
  ``20210130`` as text and as a number, Excel serial numbers, real Excel dates, month-only
  ``2021年1月`` / ``2021.01``, and the ambiguous float ``2021.1``;
* CSV in UTF-8, UTF-8 with BOM, GB18030 and GBK (payments, one file per year);
* several sheets per table (projects per year, agreements per zone and per year, funding per year,
  transition per fee basis) and several files per table (agreements, payments);
* headers with inner spaces (``协 议 编 号``, ``项 目 名 称``), synonyms from ``schemas.py``, site names
  with half- and full-width brackets (``堤路园(二)A安置区`` / ``堤路园（二）A安置区``) and a trailing space;
* the transition basis from the header (``过渡费标准（元/平方米/月）``) or from a 计费方式 column;
  ``未交付`` / ``在建`` for undelivered sites; a 说明 sheet and a 信访登记 sheet that match no table;
* six deliberately bad rows (:func:`demo_expected_rejections`): a duplicate 协议编号, an impossible
  签约日期, an impossible 支付日期, a negative payment (冲红), a 回迁日期 before its 腾房日期 and an
  unknown 计费方式.

Modules
-------
* :mod:`.world`: the plan (:class:`~.world.DemoConfig`, today's district as defaults) and the
  entities of the district;
* :mod:`.draw`: the seeded draws of the entities, component by component
  (:func:`~.draw.build_world`);
* :mod:`.ledgers`: one renderer per ledger (``sites``, ``projects``, ``agreements``,
  ``transition``, ``payments``, ``funding``) and what they share (``common``);
* :mod:`.workbook`: sheets, workbooks and CSV files, and their byte-reproducible writers;
* :mod:`.truth`: the truth rows as canonical frames, and the expected rejections;
* :mod:`.readme`: the README of ``data/demo``;
* :mod:`.api`: the public functions, with the per-seed cache;
* :mod:`.districts`: a demo city of several districts (:data:`~.districts.DEMO_DISTRICTS`), each
  its own plan, written as one raw folder per district (:func:`~.districts.write_demo_districts`).
"""

from .api import (
    clear_demo_cache,
    demo_expected_rejections,
    demo_total_mismatch,
    demo_truth,
    render_demo_profile,
    write_demo_ledgers,
)
from .districts import DEMO_DISTRICTS, DemoDistrict, write_demo_districts
from .ledgers.common import PLACEHOLDERS, SYNTHETIC_LABEL
from .readme import DATE_RULES, MESSY_RULES
from .world import DEFAULT_CONFIG

__all__ = [
    "AS_OF",
    "DATE_RULES",
    "DEMO_DISTRICTS",
    "MESSY_RULES",
    "PLACEHOLDERS",
    "REPORT_YEARS",
    "SYNTHETIC_LABEL",
    "DemoDistrict",
    "clear_demo_cache",
    "demo_expected_rejections",
    "demo_total_mismatch",
    "demo_truth",
    "render_demo_profile",
    "write_demo_districts",
    "write_demo_ledgers",
]

#: The reporting date of the demo district: nothing after it exists in the ledgers.
AS_OF = DEFAULT_CONFIG.as_of
#: The years of the project sheets (the reporting years).
REPORT_YEARS = DEFAULT_CONFIG.report_years
