"""Yearly report runs: papermill executes the notebooks, nbconvert renders self-contained HTML.

Layout of an output folder (``reports/`` by default)::

    index.html                      start here: every year × report, key figures across years
    <year>/<notebook>.html          the report, code hidden, figures embedded, no network needed
    <year>/<notebook>.ipynb         the executed notebook (the run log: parameters, outputs)
    <year>/<notebook>.failed.ipynb  kept when a run fails (the good report it would replace stays)
    <year>/key_figures.json         the figures of indicators.md, flat
    <year>/runs.json                per notebook: status, run key, duration, provenance

A run is skipped when its *run key* (data fingerprint, notebook bytes, parameters, package source)
matches the last successful run and its HTML is present. Every file is written to a temporary name
and renamed, so a crash never leaves a half-written report where a good one was.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import io
import json
import logging
import multiprocessing
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .._version import __version__
from ..exceptions import ParameterError
from .views import banner_html

__all__ = [
    "NOTEBOOKS",
    "BatchResult",
    "RunResult",
    "default_notebook_dir",
    "parse_years",
    "render_html",
    "run_batch",
    "write_index",
]

log = logging.getLogger(__name__)

#: The report notebooks, in reading order, with their Chinese titles.
NOTEBOOKS: dict[str, str] = {
    "00_overview": "总览：年度工作完成情况与三个前瞻问题",
    "10_data_quality": "数据质量：清洗、标记、剔除与合计核对",
    "20_progress": "征收任务完成情况与“最后一公里”卡点",
    "30_funding": "征拆资金缺口与资金预测",
    "40_transition_fees": "过渡安置费负担、拖欠与预测",
    "50_delivery": "安置房交付与延期分析",
}

#: Short names for the index table.
SHORT_TITLES: dict[str, str] = {
    "00_overview": "总览",
    "10_data_quality": "数据质量",
    "20_progress": "完成情况",
    "30_funding": "资金缺口",
    "40_transition_fees": "过渡安置费",
    "50_delivery": "安置房交付",
}

PROVENANCE_LABELS = {
    "data_dir": "台账文件夹",
    "data_fingerprint": "台账指纹（SHA-256）",
    "package_version": "软件版本",
    "seed": "随机种子",
    "horizon_months": "预测期（月）",
    "as_of": "统计截止日（空为年末）",
    "generated": "生成时间（UTC）",
}

#: Kernel used for every run: the Python of the environment running the batch.
KERNEL_NAME = "python3"


def default_notebook_dir() -> Path:
    """``notebooks/`` of the project (override with ``$ZHENGSHOU_NOTEBOOK_DIR``)."""
    env = os.environ.get("ZHENGSHOU_NOTEBOOK_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "notebooks"


def parse_years(text: str | None, available: Sequence[int]) -> list[int]:
    """Parse ``2019-2022`` or ``2019,2021`` (``None``: every available year).

    Raises
    ------
    ParameterError
        On a malformed value, with the accepted forms.
    """
    if text is None or not str(text).strip():
        return sorted(set(available))
    years: set[int] = set()
    try:
        for part in str(text).split(","):
            a, sep, b = part.strip().partition("-")
            lo, hi = int(a), int(b) if sep else int(a)
            if hi < lo or hi - lo > 100:
                raise ValueError(part)
            years.update(range(lo, hi + 1))
    except ValueError:
        raise ParameterError(
            f"--years {text!r} is not understood; write 2019-2022 or 2019,2021"
        ) from None
    return sorted(years)


# --- atomic files ---------------------------------------------------------------------------------


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_write_text(path: Path, text: str) -> None:
    _atomic_write_bytes(path, text.encode("utf-8"))


# --- HTML -----------------------------------------------------------------------------------------

PAGE_CSS = """
body{font-family:"ZS Noto Sans CJK SC","Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",
"SimHei",sans-serif;max-width:1100px;margin:0 auto;padding:1.5em 2em 4em;color:#1d2733;
line-height:1.65;background:#fff}
h1{font-size:1.7em;border-bottom:3px solid #1f5fa6;padding-bottom:.3em}
h2{font-size:1.35em;margin-top:1.8em;border-left:5px solid #1f5fa6;padding-left:.5em}
h3{font-size:1.12em;margin-top:1.4em}
.zs-demo-banner{background:#fff4d6;border:2px solid #e0a100;color:#6b4c00;padding:.6em 1em;
margin:0 0 1.2em;font-size:1.05em;border-radius:4px}
.zs-meta{color:#5b6775;font-size:.9em}
.zs-prose p{text-indent:2em;margin:.5em 0}
table{border-collapse:collapse;margin:.8em 0;font-size:.93em}
caption{caption-side:top;text-align:left;font-weight:bold;padding:.3em 0}
th,td{border:1px solid #cfd6de;padding:.3em .6em;vertical-align:top}
th{background:#eef3f9}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.zs-note{color:#5b6775;font-size:.88em;margin-top:-.3em}
.zs-assume{background:#f5f7fa;border-left:4px solid #9aa5b1;padding:.5em 1em;font-size:.9em}
.zs-warn{background:#fdecea;border-left:4px solid #c23b22;padding:.5em 1em}
.zs-defs dt{font-weight:bold;margin-top:.6em}
.zs-defs dd{margin-left:1.5em}
img{max-width:100%;height:auto}
.jp-OutputArea-output pre,pre{white-space:pre-wrap;font-size:.85em;background:#f7f7f7;padding:.5em}
.status-ok{color:#3a8f5c}.status-failed{color:#c23b22;font-weight:bold}.status-skipped{color:#5b6775}
"""


_BANNER_RE = re.compile(r'<div class="zs-demo-banner".*?</div>', re.DOTALL)


def font_face_css(text: str) -> str:
    """An ``@font-face`` with the bundled Noto Sans CJK SC, subset to the characters of ``text``.

    The page then shows Chinese on any machine, fonts installed or not (a reviewer's intranet PC,
    a headless browser), at the cost of some 50–150 KB of base64. Returns ``""`` (system fonts
    only) when the font cannot be subset.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from .plots import _font_file

    chars = "".join(sorted({c for c in text if ord(c) > 127})) + "".join(map(chr, range(32, 127)))
    try:
        font = TTFont(str(_font_file()))
        opts = subset.Options()
        opts.flavor = "woff"
        opts.hinting = False
        opts.layout_features = []
        sub = subset.Subsetter(opts)
        sub.populate(text=chars)
        sub.subset(font)
        buf = io.BytesIO()
        font.save(buf)
    except Exception as exc:  # noqa: BLE001 - the page still renders with system fonts
        log.warning("could not embed the CJK font (%s); pages rely on system fonts", exc)
        return ""
    data = base64.b64encode(buf.getvalue()).decode()
    return (
        "@font-face{font-family:'ZS Noto Sans CJK SC';font-style:normal;font-weight:400;"
        f"src:url(data:font/woff;base64,{data}) format('woff')}}"
    )


#: Stands where a page's @font-face goes until the batch embeds one font subset for all pages.
FONT_SLOT = "/*zs-font-face*/"


def visible_text(page: str) -> str:
    """The text a page shows (tags stripped, entities decoded): what its font must cover."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def _page(title: str, body: str, *, demo: bool, meta: str = "", font_css: str | None = None) -> str:
    body = _BANNER_RE.sub("", body)  # one banner, at the top of the page
    banner = banner_html() if demo else ""
    if font_css is None:
        font_css = font_face_css(visible_text(f"{title}{banner}{body}{meta}"))
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        f"<style>{font_css}{PAGE_CSS}</style></head>"
        f"<body>{banner}{body}"
        f'<hr><p class="zs-meta">{meta}</p></body></html>\n'
    )


def render_html(nb, *, title: str, demo: bool, meta: str = "", font_css: str | None = None) -> str:
    """Render an executed notebook to one self-contained HTML page, code hidden.

    nbconvert's ``basic`` template gives the cell outputs only (no script, no CDN link, no web
    font); figures are inlined PNGs. Warnings and log lines on stderr are dropped from the page
    (they stay in the executed notebook). The page embeds a subset of the CJK font covering its
    own text, unless ``font_css`` is given (a batch embeds one subset for all its pages).
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # never modify the caller's notebook
    n_fig = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = [
            o
            for o in cell.get("outputs", [])
            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
        ]
        for o in cell["outputs"]:
            if "image/png" in o.get("data", {}):  # alt text: accessible, and nbconvert is quiet
                n_fig += 1
                img_meta = o.setdefault("metadata", {}).setdefault("image/png", {})
                img_meta.setdefault("alt", f"{title} 图{n_fig}")
    exporter = HTMLExporter(template_name="basic")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.exclude_anchor_links = True
    body, _ = exporter.from_notebook_node(nb)
    return _page(title, body, demo=demo, meta=meta, font_css=font_css)


# --- one run ----------------------------------------------------------------------------------------


@dataclass
class RunResult:
    """The outcome of one notebook run for one year."""

    year: int
    notebook: str
    status: str  # ok, skipped (unchanged), failed
    run_key: str
    seconds: float = 0.0
    error: str | None = None
    html: str | None = None
    ipynb: str | None = None
    finished: str | None = None
    page: str | None = field(default=None, repr=False)  # the rendered page, until written


@dataclass
class _Task:
    year: int
    notebook: str
    source: str
    out_dir: str
    parameters: dict
    run_key: str
    demo: bool


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


def _run_key(data_fp: str, nb_path: Path, parameters: dict) -> str:
    from ..ledger.store import code_fingerprint

    h = hashlib.sha256()
    for part in (
        data_fp,
        nb_path.read_bytes().hex(),
        json.dumps(parameters, sort_keys=True),
        code_fingerprint(),
    ):
        h.update(part.encode())
    return h.hexdigest()[:24]


def _execute(task: _Task) -> RunResult:
    """Run one notebook (in a worker process) and render its HTML; never raises for a bad run."""
    import nbformat
    import papermill as pm

    started = time.perf_counter()
    out = Path(task.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    final_nb = out / f"{task.notebook}.ipynb"
    fd, tmp_name = tempfile.mkstemp(dir=out, prefix=f".{task.notebook}.", suffix=".ipynb")
    os.close(fd)
    tmp_nb = Path(tmp_name)
    error = None
    # IPC transport: no TCP port to race for between parallel kernels, and no plain-TCP warning
    from jupyter_client.manager import KernelManager

    ipc_dir = tempfile.mkdtemp(prefix="zs-kernel-")
    km = KernelManager(kernel_name=KERNEL_NAME, transport="ipc", ip=f"{ipc_dir}/k")
    try:
        pm.execute_notebook(
            task.source,
            str(tmp_nb),
            parameters=task.parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            log_output=False,
            cwd=str(Path(task.source).parent),
            start_timeout=120,
            execution_timeout=900,
            km=km,
        )
    except pm.PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 - a kernel that dies must not stop the batch
        error = f"{type(exc).__name__}: {exc}"
    finally:
        # nbclient does not own a kernel manager it was given: stop the kernel here
        if km.has_kernel:
            km.shutdown_kernel(now=True)
        km.cleanup_resources()
        shutil.rmtree(ipc_dir, ignore_errors=True)
    seconds = time.perf_counter() - started
    finished = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    title = f"{task.year}年 · {NOTEBOOKS.get(task.notebook, task.notebook)}"
    if error is not None:
        failed = out / f"{task.notebook}.failed.ipynb"
        if tmp_nb.exists() and tmp_nb.stat().st_size:
            os.replace(tmp_nb, failed)
        else:
            tmp_nb.unlink(missing_ok=True)
        log.error("%s %s failed: %s", task.year, task.notebook, error)
        return RunResult(
            task.year,
            task.notebook,
            "failed",
            task.run_key,
            seconds,
            error,
            html=None,
            ipynb=failed.name if failed.exists() else None,
            finished=finished,
        )
    nb = nbformat.read(tmp_nb, as_version=4)
    meta = (
        f"zhengshou-analysis {html.escape(__version__)} · 参数 "
        f"{html.escape(json.dumps(task.parameters, ensure_ascii=False, sort_keys=True))} · "
        f"运行于 {html.escape(finished)}（{seconds:.1f} 秒）"
    )
    # the page goes back to the batch, which embeds one font subset for all pages and writes it
    page = render_html(nb, title=title, demo=task.demo, meta=meta, font_css=FONT_SLOT)
    os.replace(tmp_nb, final_nb)
    (out / f"{task.notebook}.failed.ipynb").unlink(missing_ok=True)
    return RunResult(
        task.year,
        task.notebook,
        "ok",
        task.run_key,
        seconds,
        None,
        html=f"{task.notebook}.html",
        ipynb=final_nb.name,
        page=page,
        finished=finished,
    )


class _QuietClientGC(logging.Filter):
    """Drop the one harmless warning of a kernel client garbage-collected after its kernel stopped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Could not destroy zmq context")


#: Relative cost of the notebooks (the ones that fit forecast models run longest).
_COST = {"00_overview": 3, "30_funding": 3, "50_delivery": 2, "40_transition_fees": 2}


def _write_key_figures(data_dir: str, year: int, as_of, seed: int, horizon: int, ydir: str) -> None:
    """Compute every figure of ``year`` and write ``key_figures.json`` (runs in a pool worker)."""
    from ..figures.keyfile import key_figures_json
    from ..figures.year import compute_year_figures
    from ..ledger.store import load_ledgers

    tables = load_ledgers(data_dir).tables  # from the cache the batch just filled
    figures = compute_year_figures(
        tables, year=year, as_of=as_of, seed=seed, horizon_months=horizon
    )
    _atomic_write_text(Path(ydir) / "key_figures.json", key_figures_json(figures))


def _worker_init() -> None:
    # one BLAS thread per kernel: the pool already uses every core
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    logging.getLogger("traitlets").addFilter(_QuietClientGC())


# --- the batch --------------------------------------------------------------------------------------


@dataclass
class BatchResult:
    """Every run of a batch, and where the index is."""

    runs: list[RunResult] = field(default_factory=list)
    index: Path | None = None

    @property
    def failed(self) -> list[RunResult]:
        """The runs that failed."""
        return [r for r in self.runs if r.status == "failed"]


def _read_state(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def run_batch(
    *,
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    years: Iterable[int] | None = None,
    as_of: str | None = None,
    notebooks: Sequence[str] | None = None,
    jobs: int | None = None,
    seed: int = 2021,
    horizon_months: int = 12,
    extra_parameters: dict | None = None,
    force: bool = False,
    notebook_dir: Path | None = None,
    progress: bool = True,
    on_run: Callable[[RunResult], None] | None = None,
) -> BatchResult:
    """Run the report notebooks for several years, in parallel, into ``out_dir``.

    Parameters
    ----------
    data_dir
        The raw ledgers (read-only).
    out_dir
        The reports folder; ``<year>/`` sub-folders and ``index.html`` are written there.
    years
        Reporting years (default: every year of the projects ledger).
    as_of
        A reporting date for a mid-year run (一月一调度); needs exactly one year.
    notebooks
        Notebook names (default: all of :data:`NOTEBOOKS`).
    jobs
        Parallel runs (default: the number of cores).
    seed, horizon_months, extra_parameters
        Notebook parameters (plain ints, floats, strings only).
    force
        Re-run even when nothing changed.

    Returns
    -------
    BatchResult
        Every run's status; the caller decides the exit status from ``result.failed``.
    """
    from ..ledger.store import code_fingerprint, data_fingerprint, load_ledgers

    data_dir = Path(data_dir).resolve()
    out = Path(out_dir).resolve()
    nb_dir = Path(notebook_dir or default_notebook_dir()).resolve()
    names = list(notebooks or NOTEBOOKS)
    for n in names:
        if not (nb_dir / f"{n}.ipynb").is_file():
            raise ParameterError(f"notebook {n}.ipynb not found in {nb_dir}")
    result_clean = load_ledgers(data_dir)  # raises CleanError on untrustworthy data
    demo = bool(result_clean.manifest.get("synthetic"))
    data_fp = data_fingerprint(data_dir)
    available = sorted({int(y) for y in result_clean.tables["projects"]["year"].dropna()})
    year_list = sorted({int(y) for y in years}) if years is not None else available
    if as_of is not None and len(year_list) != 1:
        raise ParameterError("--as-of makes a mid-year run of one year: give exactly one --year")

    tasks: list[_Task] = []
    runs: list[RunResult] = []
    kf_keys: dict[int, str] = {}
    figure_jobs: list[tuple] = []
    for year in year_list:
        ydir = out / str(year)
        ydir.mkdir(parents=True, exist_ok=True)
        state = _read_state(ydir / "runs.json")
        kf_keys[year] = _digest(
            data_fp, code_fingerprint(), str(as_of), str(year), str(seed), str(horizon_months)
        )
        if (
            force
            or state.get("_key_figures") != kf_keys[year]
            or not (ydir / "key_figures.json").is_file()
        ):
            figure_jobs.append((str(data_dir), year, as_of, seed, horizon_months, str(ydir)))
        for name in names:
            params = {
                "year": int(year),
                "as_of": as_of or "",
                "data_dir": str(data_dir),
                "seed": int(seed),
                "horizon_months": int(horizon_months),
                **(extra_parameters or {}),
            }
            src = nb_dir / f"{name}.ipynb"
            key = _run_key(data_fp, src, params)
            prev = state.get(name, {})
            if (
                not force
                and prev.get("status") in ("ok", "skipped")
                and prev.get("run_key") == key
                and (ydir / f"{name}.html").is_file()
            ):
                runs.append(
                    RunResult(
                        year,
                        name,
                        "skipped",
                        key,
                        0.0,
                        None,
                        f"{name}.html",
                        f"{name}.ipynb",
                        prev.get("finished"),
                    )
                )
                continue
            tasks.append(_Task(year, name, str(src), str(ydir), params, key, demo))

    # longest first (the overview and funding notebooks fit models), key figures fill the gaps
    tasks.sort(key=lambda t: -_COST.get(t.notebook, 1))
    if tasks or figure_jobs:
        workers = max(1, min(jobs or os.cpu_count() or 1, len(tasks) + len(figure_jobs)))
        bar = None
        if progress and tasks:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(tasks), desc="报告", unit="个")

        def done(r: RunResult) -> None:
            runs.append(r)
            if bar:
                bar.update()
            if on_run:
                on_run(r)

        if workers == 1:
            _worker_init()
            for t in tasks:
                done(_execute(t))
            for job in figure_jobs:
                _write_key_figures(*job)
        else:
            # forkserver, not fork: the caller may have threads (a notebook kernel, a web server),
            # and a child forked from it can inherit a lock that no thread will release. The server
            # starts from a fresh interpreter and preloads the heavy modules once.
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(
                ["zhengshou_analysis.report.batch", "papermill", "nbconvert"]
            )
            with ProcessPoolExecutor(
                max_workers=workers, initializer=_worker_init, mp_context=ctx
            ) as pool:
                futures = {pool.submit(_execute, t): t for t in tasks}
                figure_futures = [pool.submit(_write_key_figures, *job) for job in figure_jobs]
                for fut in as_completed(futures):
                    t = futures[fut]
                    try:
                        r = fut.result()
                    except Exception as exc:  # noqa: BLE001 - a crashed worker is a failed run
                        r = RunResult(
                            t.year,
                            t.notebook,
                            "failed",
                            t.run_key,
                            0.0,
                            f"{type(exc).__name__}: {exc}",
                        )
                    done(r)
                for fut in figure_futures:
                    fut.result()  # an error in the figures is a bug: let it surface
        if bar:
            bar.close()

    _write_pages([r for r in runs if r.page is not None], out)

    for year in year_list:
        ydir = out / str(year)
        state = _read_state(ydir / "runs.json")
        for r in runs:
            if r.year == year:
                state[r.notebook] = {k: v for k, v in asdict(r).items() if k != "page"}
        state["_key_figures"] = kf_keys[year]
        _atomic_write_text(ydir / "runs.json", json.dumps(state, ensure_ascii=False, indent=2))

    runs.sort(key=lambda r: (r.year, names.index(r.notebook) if r.notebook in names else 99))
    provenance = {
        "data_dir": str(data_dir),
        "data_fingerprint": data_fp,
        "package_version": __version__,
        "seed": seed,
        "horizon_months": horizon_months,
        "as_of": as_of,
    }
    # the index changes only when a run, a year's figures or the provenance changes
    index = out / "index.html"
    years_on_disk = sorted(p.name for p in out.iterdir() if p.is_dir() and p.name.isdigit())
    index_key = _digest(
        json.dumps(provenance, sort_keys=True),
        code_fingerprint(),
        *(
            (out / y / "runs.json").read_text(encoding="utf-8")
            for y in years_on_disk
            if (out / y / "runs.json").is_file()
        ),
    )
    key_file = out / ".index_key"
    if force or not index.is_file() or not key_file.is_file() or key_file.read_text() != index_key:
        generated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        index = write_index(out, demo=demo, provenance={**provenance, "generated": generated})
        _atomic_write_text(key_file, index_key)
    return BatchResult(runs, index)


def _write_pages(done: list[RunResult], out: Path) -> None:
    """Embed one font subset covering every new page's text, then write each page atomically."""
    if not done:
        return
    chars = "".join(sorted({c for r in done for c in visible_text(r.page) if ord(c) > 127}))
    css = font_face_css(chars)
    for r in done:
        _atomic_write_text(out / str(r.year) / r.html, r.page.replace(FONT_SLOT, css, 1))
        r.page = None


# --- index ----------------------------------------------------------------------------------------

_TREND = {
    "unpaid_gap_yuan": "已签协议待付款缺口",
    "funds_received_yuan": "累计到位资金",
    "transition_fee_arrears_yuan": "过渡安置费拖欠",
    "transition_fee_overdue_extra_yuan": "逾期增加的过渡费",
}


def _trend_png(rows: list[dict]) -> str:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .plots import plot_trend, use_report_style

    use_report_style()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    import pandas as pd

    plot_trend(
        pd.DataFrame(rows),
        x="year",
        series=_TREND,
        unit="万元",
        scale=1e4,
        title="主要资金指标走势（万元）",
        ax=ax,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def write_index(out: Path, *, demo: bool, provenance: dict) -> Path:
    """Write ``index.html``: every year × report with status, key figures across years, provenance."""
    from ..formatting import fmt_count, fmt_pct, fmt_wan_yuan

    years = sorted(int(p.name) for p in out.iterdir() if p.is_dir() and p.name.isdigit())
    rows = []
    run_rows = []
    for y in years:
        ydir = out / str(y)
        state = _read_state(ydir / "runs.json")
        figs = _read_state(ydir / "key_figures.json")
        if figs:
            rows.append(
                {
                    "year": y,
                    **{
                        k: figs.get(k)
                        for k in (
                            *_TREND,
                            "projects_count",
                            "land_completion_rate",
                            "transition_households_active",
                            "sites_over_3_years",
                            "funds_in_place_ratio",
                        )
                    },
                }
            )
        cells = []
        for name, title in NOTEBOOKS.items():
            r = state.get(name)
            if r is None:
                cells.append("<td>—</td>")
                continue
            status = r.get("status", "?")
            label = {"ok": "已生成", "skipped": "未变化，沿用", "failed": "失败"}.get(
                status, status
            )
            link = ""
            if status == "failed":
                target = f"{y}/{name}.failed.ipynb" if r.get("ipynb") else None
                err = html.escape(str(r.get("error") or ""))[:300]
                link = f' · <a href="{html.escape(target)}">查看出错的笔记本</a>' if target else ""
                cells.append(
                    f'<td><span class="status-failed">{label}</span>{link}'
                    f"<br><small>{err}</small></td>"
                )
            else:
                cells.append(
                    f'<td><a href="{y}/{html.escape(name)}.html">{html.escape(title)}</a>'
                    f'<br><small class="status-{status}">{label}</small></td>'
                )
        run_rows.append(f"<tr><th>{y}年</th>{''.join(cells)}</tr>")

    head = "".join(f"<th>{html.escape(SHORT_TITLES.get(n, n))}</th>" for n in NOTEBOOKS)
    trend_rows = "".join(
        "<tr>"
        f"<th>{r['year']}年</th>"
        f"<td class=num>{fmt_count(r.get('projects_count'))}</td>"
        f"<td class=num>{fmt_pct(r.get('land_completion_rate'))}</td>"
        f"<td class=num>{fmt_wan_yuan(r.get('unpaid_gap_yuan'), unit=False)}</td>"
        f"<td class=num>{fmt_pct(r.get('funds_in_place_ratio'))}</td>"
        f"<td class=num>{fmt_count(r.get('transition_households_active'))}</td>"
        f"<td class=num>{fmt_wan_yuan(r.get('transition_fee_arrears_yuan'), unit=False)}</td>"
        f"<td class=num>{fmt_count(r.get('sites_over_3_years'))}</td>"
        "</tr>"
        for r in rows
    )
    chart = (
        f'<img alt="主要资金指标走势" src="data:image/png;base64,{_trend_png(rows)}">'
        if rows
        else ""
    )
    prov = "".join(
        f"<tr><th>{html.escape(PROVENANCE_LABELS.get(k, k))}</th>"
        f"<td>{html.escape('—' if v is None else str(v))}</td></tr>"
        for k, v in provenance.items()
    )
    body = f"""
<h1>区土地房屋征收工作分析报告</h1>
<p>每年一组报告：先读“总览”，再按需查看各专题。报告由台账自动生成，每个数字的口径见各报告附录。</p>
<h2>报告目录</h2>
<table><thead><tr><th>年度</th>{head}</tr></thead><tbody>{"".join(run_rows)}</tbody></table>
<h2>主要指标走势</h2>
<table><thead><tr><th>年度</th><th>推进项目（个）</th><th>征地完成率</th>
<th>待付款缺口（万元）</th><th>资金到位率</th><th>在外过渡（户）</th><th>过渡费拖欠（万元）</th>
<th>超3年未交付安置区（个）</th></tr></thead><tbody>{trend_rows}</tbody></table>
{chart}
<h2>数据来源与运行信息</h2>
<table><tbody>{prov}</tbody></table>
"""
    path = out / "index.html"
    _atomic_write_text(
        path,
        _page(
            "区土地房屋征收工作分析报告",
            body,
            demo=demo,
            meta=f"zhengshou-analysis {html.escape(__version__)}",
        ),
    )
    return path
