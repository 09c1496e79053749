"""``index.html`` of a reports folder: every year × report with its status, each year's Word and
Excel files, key figures across years with a trend chart, and the batch's settings in words.

The index is rewritten only when a run, a year's figures, the office files present or the
provenance changed (its *index key*, kept in ``.index_key``). The machine details (data folder,
fingerprints, UTC time) go to ``provenance.json`` beside it, not onto the page.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from pathlib import Path
from urllib.parse import quote

from .._version import __version__
from ..figures.registry import FIGURES, Figure
from ..profile import OFFICE_FALLBACK
from .catalog import NOTEBOOKS, SHORT_TITLES
from .files import atomic_write_text, office_file_name, read_json_dict
from .pages import footer_html, html_page, parameters_in_words
from .runs import digest

__all__ = ["OFFICE_FILES", "PROVENANCE_LABELS", "office_files", "refresh_index", "write_index"]

#: The provenance entries the index shows, with their labels (the others, machine details such as
#: the data folder and the fingerprints, are kept in ``provenance.json`` only).
PROVENANCE_LABELS = {
    "office": "单位",
    "profile": "单位配置",
    "package_version": "软件版本",
    "seed": "随机种子",
    "horizon_months": "预测期（月）",
    "as_of": "统计截止日",
}

#: The office files of a year, in the order the index lists them: (kind, suffix, link text).
OFFICE_FILES = (
    ("工作总结", ".docx", "工作总结（Word）"),
    ("报表", ".xlsx", "报表（Excel）"),
)


def index_title(provenance: dict) -> str:
    """The index title with the office's name (``港北区土地房屋征收工作分析报告``)."""
    office = provenance.get("office") or OFFICE_FALLBACK
    return f"{office}土地房屋征收工作分析报告"


def _index_figures() -> list[Figure]:
    """The figures of the index table: those declared with ``index=True`` in the registry."""
    return [f for f in FIGURES if f.index]


def _trend_series() -> dict[str, str]:
    """The money figures of the index, charted across years: key → Chinese label."""
    return {f.name: f.label for f in _index_figures() if f.unit == "yuan"}


_STATUS_LABELS = {"ok": "已生成", "skipped": "未变化，沿用", "failed": "失败"}


def _years_on_disk(out: Path) -> list[str]:
    """The ``<year>/`` folders of ``out``, sorted."""
    return sorted(p.name for p in out.iterdir() if p.is_dir() and p.name.isdigit())


def office_files(out: Path, year: int | str, office: str | None) -> list[tuple[str, str]]:
    """The office files of ``year`` present in ``out``: (file name, link text), in index order.

    Parameters
    ----------
    out
        The reports folder.
    year
        The period (its folder name).
    office
        The office's name from its profile (``None``/``""``: ``区``); the file names are
        :func:`~.files.office_file_name` ``("工作总结", office, year, ".docx")`` and
        ``("报表", office, year, ".xlsx")``.
    """
    names = [
        (office_file_name(kind, office or OFFICE_FALLBACK, str(year), suffix), text)
        for kind, suffix, text in OFFICE_FILES
    ]
    return [(name, text) for name, text in names if (out / str(year) / name).is_file()]


def refresh_index(out: Path, *, demo: bool, provenance: dict, force: bool = False) -> Path:
    """Write ``index.html`` unless its index key is unchanged (or ``force``); return its path.

    Parameters
    ----------
    out
        The reports folder, its ``<year>/runs.json`` already written.
    demo
        Whether the data are synthetic (the page then opens with the demo banner).
    provenance
        Data folder, data fingerprint, version and parameters of the batch (without a time: the
        generation time is added when the index is written).
    force
        Write even when nothing changed.
    """
    from ..ledger.store import code_fingerprint

    index = out / "index.html"
    index_key = digest(
        json.dumps(provenance, sort_keys=True),
        code_fingerprint(),
        *(
            (out / y / "runs.json").read_text(encoding="utf-8")
            for y in _years_on_disk(out)
            if (out / y / "runs.json").is_file()
        ),
        *(
            f"{y}/{name}"
            for y in _years_on_disk(out)
            for name, _ in office_files(out, y, provenance.get("office"))
        ),
    )
    key_file = out / ".index_key"
    if force or not index.is_file() or not key_file.is_file() or key_file.read_text() != index_key:
        generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        full = {**provenance, "generated": generated}
        index = write_index(out, demo=demo, provenance=full)
        atomic_write_text(
            out / "provenance.json", json.dumps(full, ensure_ascii=False, indent=2) + "\n"
        )
        atomic_write_text(key_file, index_key)
    return index


def _trend_png(rows: list[dict]) -> str:
    """The trend chart of the money figures across years, as base64 PNG.

    Figures of very different size (a cumulative sum beside a small arrears) are drawn on separate
    panels (:func:`~zhengshou_analysis.report.plots.plot_trend_panels`).
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import pandas as pd

    from .plots import plot_trend_panels

    fig, _ = plot_trend_panels(
        pd.DataFrame(rows),
        x="year",
        series=_trend_series(),
        unit="万元",
        scale=1e4,
        title="主要资金指标走势（万元）",
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _figure_row(year: int, figs: dict) -> dict:
    """The key figures of one year shown in the index."""
    return {"year": year, **{f.name: figs.get(f.name) for f in _index_figures()}}


def _status_cell(year: int, name: str, title: str, run: dict | None) -> str:
    """One cell of the report table: a link to the report, or the failure and its notebook."""
    if run is None:
        return "<td>—</td>"
    status = run.get("status", "?")
    label = _STATUS_LABELS.get(status, status)
    if status == "failed":
        target = f"{year}/{name}.failed.ipynb" if run.get("ipynb") else None
        err = html.escape(str(run.get("error") or ""))[:300]
        link = f' · <a href="{html.escape(target)}">查看出错的笔记本</a>' if target else ""
        return f'<td><span class="status-failed">{label}</span>{link}<br><small>{err}</small></td>'
    return (
        f'<td><a href="{year}/{html.escape(name)}.html">{html.escape(title)}</a>'
        f'<br><small class="status-{status}">{label}</small></td>'
    )


def _office_cell(out: Path, year: int, office: str | None) -> str:
    """The cell of a year's Word and Excel files: links to those present, ``—`` when none."""
    links = [
        f'<a href="{year}/{html.escape(quote(name))}">{html.escape(text)}</a>'
        for name, text in office_files(out, year, office)
    ]
    return f'<td class="zs-nowrap">{"<br>".join(links) or "—"}</td>'


def _profile_name(value: object) -> str:
    """The profile file's name from the provenance (``""``: the built-in default, no path)."""
    text = str(value or "")
    return "" if not text or text.startswith("（") else Path(text).name


def _provenance_value(key: str, value: object) -> str:
    """A provenance entry as the index shows it: no machine path, dates in Chinese."""
    if key == "profile":
        return _profile_name(value) or "内置默认"
    if key == "as_of":
        if not value:
            return "年末（12月31日）"
        try:
            d = dt.date.fromisoformat(str(value))
        except ValueError:
            return str(value)
        return f"{d.year}年{d.month}月{d.day}日"
    return "—" if value is None else str(value)


def _trend_table_row(r: dict) -> str:
    """One year's row of the key-figure table."""
    cells = "".join(
        f"<td class=num>{html.escape(_format_index_value(f, r.get(f.name)))}</td>"
        for f in _index_figures()
    )
    return f"<tr><th>{r['year']}年</th>{cells}</tr>"


def _format_index_value(fig: Figure, value) -> str:
    """A figure as the index shows it: 万元 without the unit (it is in the header), %, counts."""
    from ..formatting import fmt_count, fmt_mu, fmt_pct, fmt_wan_yuan

    if fig.unit == "yuan":
        return fmt_wan_yuan(value, unit=False)
    if fig.unit == "ratio":
        return fmt_pct(value)
    if fig.unit == "mu":
        return fmt_mu(value)
    return fmt_count(value)


def _index_body(run_rows: list[str], rows: list[dict], provenance: dict) -> str:
    """The body of the index page: report table, key figures and chart, provenance."""
    head = "".join(f"<th>{html.escape(SHORT_TITLES.get(n, n))}</th>" for n in NOTEBOOKS)
    head += '<th class="zs-nowrap">办公文件</th>'
    trend_rows = "".join(_trend_table_row(r) for r in rows)
    figure_heads = "".join(f"<th>{html.escape(f.label_with_unit)}</th>" for f in _index_figures())
    chart = (
        f'<img alt="主要资金指标走势" src="data:image/png;base64,{_trend_png(rows)}">'
        if rows
        else ""
    )
    prov = "".join(
        f"<tr><th>{html.escape(label)}</th>"
        f"<td>{html.escape(_provenance_value(key, provenance.get(key)))}</td></tr>"
        for key, label in PROVENANCE_LABELS.items()
        if key in provenance
    )
    return f"""
<h1>{html.escape(index_title(provenance))}</h1>
<p>每年一组报告：先读“总览”，再按需查看各专题；“办公文件”一栏是可编辑的工作总结（Word）和报表（Excel）。报告由台账自动生成，每个数字的口径见各报告附录。</p>
<h2>报告目录</h2>
<table><thead><tr><th>年度</th>{head}</tr></thead><tbody>{"".join(run_rows)}</tbody></table>
<h2>主要指标走势</h2>
<table><thead><tr><th>年度</th>{figure_heads}</tr></thead><tbody>{trend_rows}</tbody></table>
{chart}
<h2>运行设置</h2>
<table><tbody>{prov}</tbody></table>
"""


def write_index(out: Path, *, demo: bool, provenance: dict) -> Path:
    """Write ``index.html``: every year × report with status, key figures across years, provenance.

    Parameters
    ----------
    out
        The reports folder; every ``<year>/`` in it is listed, from its ``runs.json`` and
        ``key_figures.json``.
    demo
        Whether the data are synthetic (the page then opens with the demo banner).
    provenance
        Shown as a table, labelled with :data:`PROVENANCE_LABELS`.

    Returns
    -------
    Path
        The index page.
    """
    rows = []
    run_rows = []
    for y in sorted(int(name) for name in _years_on_disk(out)):
        state = read_json_dict(out / str(y) / "runs.json")
        figs = read_json_dict(out / str(y) / "key_figures.json")
        if figs:
            rows.append(_figure_row(y, figs))
        cells = "".join(
            _status_cell(y, name, title, state.get(name)) for name, title in NOTEBOOKS.items()
        )
        cells += _office_cell(out, y, provenance.get("office"))
        run_rows.append(f"<tr><th>{y}年</th>{cells}</tr>")
    generated = provenance.get("generated")
    moment = dt.datetime.fromisoformat(generated) if generated else dt.datetime.now(dt.UTC)
    words = parameters_in_words(
        seed=provenance.get("seed"),
        horizon_months=provenance.get("horizon_months"),
        as_of=provenance.get("as_of"),
        profile=_profile_name(provenance.get("profile")),
    )
    path = out / "index.html"
    atomic_write_text(
        path,
        html_page(
            index_title(provenance),
            _index_body(run_rows, rows, provenance),
            demo=demo,
            meta=footer_html(__version__, words, moment, what="目录生成"),
        ),
    )
    return path
