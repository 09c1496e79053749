"""The ``zhengshou`` command: a thin layer over the library.

Every sub-command parses its arguments, calls one library function and turns a
:class:`~zhengshou_analysis.exceptions.ZhengshouError` into a one-line message on standard error and
exit status 2 (never a traceback). An environment fault (a full disk, a read-only or missing output
location, another run holding the output folder with ``--no-wait``, a ledger saved mid-run) is said
in words naming the path and what to do: exit 1 for ``batch`` and ``report`` (as a failed report),
2 for the others (docs/faults.md).
"""

from __future__ import annotations

import argparse
import atexit
import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._version import __version__
from .exceptions import (
    BusyError,
    InputChangedError,
    OutputError,
    ParameterError,
    ZhengshouError,
)

__all__ = ["main"]

log = logging.getLogger("zhengshou_analysis")

DEFAULT_DATA = Path("data/demo")
DEFAULT_REPORTS = Path("reports")
#: The commands that run reports: an environment fault exits 1 there (as a failed report), 2 elsewhere.
_RUN_COMMANDS = frozenset({"batch", "report"})


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from .demo import write_demo_districts, write_demo_ledgers

    if args.districts is not None:
        written = write_demo_districts(args.out_dir, count=args.districts, seed=args.seed)
        folders = [name for name in written if name]
        sys.stdout.write(
            f"示例数据（模拟）: {len(folders)} districts ({', '.join(folders)}) written to "
            f"{args.out_dir}\n"
        )
        return 0
    paths = write_demo_ledgers(args.out_dir, seed=args.seed)
    log.info("wrote %d demo ledgers to %s", len(paths), args.out_dir)
    sys.stdout.write(f"示例数据（模拟）: {len(paths)} files written to {args.out_dir}\n")
    return 0


def _cmd_clean(args: argparse.Namespace) -> int:
    from .exceptions import CleanError
    from .ledger.clean import write_clean_outputs
    from .ledger.outputs import WorkbookAhead
    from .ledger.store import clean_unchanged
    from .outfolder import check_output_folder

    # a file, a read-only location: said before the work (nothing is created: --out may be refused)
    check_output_folder(args.out, create=False)
    # the workbook of the tables is written while the quality log and manifest are assembled
    with WorkbookAhead() as workbook:
        try:
            # cleaned again once if a ledger changed while it was read; an error if it changes again
            result, _ = clean_unchanged(
                args.raw_dir,
                strict=args.strict,
                profile=args.profile_obj,
                on_tables=workbook.start,
            )
        except CleanError as exc:
            # keep what was found (quality log, rejected rows, manifest), but no untrustworthy table
            write_clean_outputs(exc.result, args.out, tables=False)
            raise
        write_clean_outputs(result, args.out, workbook=workbook)
    q = result.quality_log
    n_warn = int((q["severity"] == "warning").sum())
    rows = ", ".join(f"{name} {len(df)}" for name, df in result.tables.items())
    sys.stdout.write(
        f"cleaned {len(result.manifest['inputs'])} files into {args.out}: {rows}; "
        f"{len(result.rejected)} rows rejected, {n_warn} warnings (see quality_log.csv)\n"
    )
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    import json

    from .ledger.inspect import inspect_ledgers

    inspection = inspect_ledgers(args.raw_dir, profile=args.profile_obj)
    if args.json:
        sys.stdout.write(json.dumps(inspection.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(inspection.to_text())
    return 0


def _cmd_figures(args: argparse.Namespace) -> int:
    from .figures.keyfile import key_figures_json
    from .figures.year import compute_period_figures
    from .ledger.store import load_ledgers
    from .periods import Period

    period = Period.year_end(args.year) if args.as_of is None else Period.of_date(args.as_of)
    if period.year != args.year:
        raise ParameterError(
            f"--as-of {args.as_of} is not in --year {args.year}: give a date of that year"
        )
    # cleaned once, shared with notebooks and batches
    result = load_ledgers(args.raw_dir, profile=args.profile_obj)
    # the content of <period>/key_figures.json: a month's with its changes
    figures = compute_period_figures(result.tables, period=period, profile=args.profile_obj)
    sys.stdout.write(key_figures_json(figures))
    return 0


def _run_reports(args: argparse.Namespace, years, months: str | None = None) -> int:
    common: dict[str, Any] = {
        "data_dir": args.data,
        "out_dir": args.out,
        "years": years,
        "months": months,
        "notebooks": getattr(args, "pages", None),  # zhengshou report --page
        "as_of": getattr(args, "as_of", None),
        "profile": args.profile_obj,
        "wait": not args.no_wait,
        "on_wait": _tell_waiting(args.out),
    }
    if not args.force:
        from .report.batchkey import unchanged_batch

        # nothing changed since the last batch that had nothing to do: its answer, at once
        unchanged = unchanged_batch(**common)
        if unchanged is not None:
            _write_counts(0, unchanged.skipped, 0, unchanged.index)
            return 0
    from .report.batch import run_batch

    result = run_batch(
        **common,
        jobs=getattr(args, "jobs", None),
        force=args.force,
        # a bar at a terminal, one line per finished report in a log or a pipe
        progress="bar" if sys.stderr.isatty() else "lines",
        scheduler=getattr(args, "scheduler", None),
    )
    counts = {s: sum(r.status == s for r in result.runs) for s in ("ok", "skipped", "failed")}
    _write_counts(counts["ok"], counts["skipped"], counts["failed"], result.index)
    for fault in result.faults:
        sys.stderr.write(f"FAILED {fault}\n")
    if result.failed or result.faults:
        for r in result.failed:
            if r.ipynb is None:  # nothing was run: the period itself is the problem
                sys.stderr.write(f"FAILED {r.folder}: {r.error}\n")
                continue
            where = Path(args.out) / r.folder / r.ipynb
            sys.stderr.write(
                f"FAILED {r.folder} {r.notebook}: {r.error} (executed notebook: {where})\n"
            )
        return 1
    return 0


def _write_counts(ok: int, skipped: int, failed: int, index: Path | None) -> None:
    """The batch's summary on standard output: its runs by outcome and where the index is."""
    sys.stdout.write(
        f"{ok} reports written, {skipped} unchanged (skipped), {failed} failed\n"
        f"报告目录 index: {index}\n"
    )


def _tell_waiting(out: Path):
    """The message a batch prints once while another run holds its output folder."""
    from .outfolder import describe_holder

    def tell(holder: dict) -> None:
        sys.stderr.write(
            f"另一个运行正在写入 {out}（{describe_holder(holder)}）：等待它结束后继续"
            "（不想等待：--no-wait）…\n"
        )
        sys.stderr.flush()

    return tell


def _add_wait_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--no-wait",
        dest="no_wait",
        action="store_true",
        help="when another run is writing into --out, exit at once (status 1) instead of waiting",
    )


def _cmd_report(args: argparse.Namespace) -> int:
    from .periods import Period
    from .report.catalog import notebooks_of

    if args.pages:
        period = Period.year_end(args.year) if args.as_of is None else Period.of_date(args.as_of)
        catalogue = notebooks_of(period)
        wrong = [p for p in args.pages if p not in catalogue]
        if wrong:
            kind = "a month's run" if period.kind == "month" else "a year's or a date's run"
            raise ParameterError(
                f"--page {', '.join(wrong)}: not a page of {kind} ({period.folder}); "
                f"its pages: {', '.join(catalogue)}"
            )
    return _run_reports(args, [args.year])


def _page_name(text: str) -> str:
    """``--page``: a report notebook's name (``30_funding``; ``30_funding.ipynb`` and a path to the
    notebook are taken too)."""
    from .report.catalog import MONTHLY_NOTEBOOKS, NOTEBOOKS

    name = Path(text).stem if text.endswith(".ipynb") else Path(text).name
    if name not in NOTEBOOKS and name not in MONTHLY_NOTEBOOKS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a report page; the pages: {', '.join([*NOTEBOOKS, *MONTHLY_NOTEBOOKS])}"
        )
    return name


def _cmd_batch(args: argparse.Namespace) -> int:
    from .report.batchkey import parse_years
    from .report.districts import is_data_root

    years = parse_years(args.years, available=[]) if args.years else None
    if is_data_root(args.data):
        return _run_districts(args, years)
    return _run_reports(args, years, args.months)


def _run_districts(args: argparse.Namespace, years) -> int:
    """``batch`` on a data root: every district into ``--out/<district>/``, then the city view."""
    from .report.districts import run_districts

    if args.profile is not None:
        raise ParameterError(
            f"--profile applies to one office; {args.data} holds several districts, each with its "
            "own zhengshou.toml (docs/districts.md)"
        )
    result = run_districts(
        data_root=args.data,
        out_dir=args.out,
        years=years,
        months=args.months,
        as_of=args.as_of,
        jobs=args.jobs,
        force=args.force,
        # a bar at a terminal, one line per finished report in a log or a pipe
        progress="bar" if sys.stderr.isatty() else "lines",
        wait=not args.no_wait,
        on_wait=_tell_waiting(args.out),
        scheduler=args.scheduler,
    )
    for o in result.outcomes:
        runs = o.result.runs if o.result else []
        counts = {s: sum(r.status == s for r in runs) for s in ("ok", "skipped", "failed")}
        state = "FAILED" if o.error else f"{counts['ok']} written, {counts['skipped']} unchanged"
        sys.stdout.write(f"{o.district.name}: {state}, {counts['failed']} failed\n")
    sys.stdout.write(f"市级汇总 index: {result.index}\n")
    for text in result.failures:
        sys.stderr.write(f"FAILED {text}\n")
    return 1 if result.failures else 0


def _cmd_init(args: argparse.Namespace) -> int:
    from .profile import write_profile_template

    path = write_profile_template(args.dir, force=args.force)
    sys.stdout.write(f"wrote {path} (edit it, then run any command on the ledgers beside it)\n")
    return 0


def _load_profile(args: argparse.Namespace) -> None:
    """Load and validate the profile FIRST, before any work; kept on ``args.profile_obj``."""
    from .profile import load_profile

    raw_dir = getattr(args, "raw_dir", None) or getattr(args, "data", None)
    args.profile_obj = load_profile(args.profile, raw_dir=raw_dir)


def _add_profile_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="office profile (default: zhengshou.toml in the ledger folder, else in the current "
        "folder, else built-in; see `zhengshou init`)",
    )


def _write_doc(text: str, out: Path | None) -> int:
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _cmd_data_dictionary(args: argparse.Namespace) -> int:
    from .schemas import render_data_dictionary

    return _write_doc(render_data_dictionary(), args.out)


def _cmd_indicators_doc(args: argparse.Namespace) -> int:
    from .figures.registry import render_indicators_doc

    return _write_doc(render_indicators_doc(), args.out)


def _cmd_profile_doc(args: argparse.Namespace) -> int:
    from .profile import render_profile_doc

    return _write_doc(render_profile_doc(), args.out)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``zhengshou`` (exposed for tests and docs)."""
    from .report.catalog import MONTHLY_NOTEBOOKS, NOTEBOOKS  # names only: no heavy import

    parser = argparse.ArgumentParser(
        prog="zhengshou",
        description="区土地房屋征收 ledgers → clean tables, key figures, forecasts and HTML reports.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo-data", help="write the synthetic demo ledgers (示例数据（模拟）)")
    p.add_argument("out_dir", type=Path, help="folder to write the raw ledgers into")
    p.add_argument("--seed", type=int, default=2021, help="generator seed (default: 2021)")
    p.add_argument(
        "--districts",
        type=int,
        default=None,
        metavar="N",
        help="write a demo city instead: N districts (1-5), one folder each, for `batch --data`",
    )
    p.set_defaults(func=_cmd_demo_data)

    p = sub.add_parser("clean", help="raw ledgers → canonical tables, quality log, manifest")
    p.add_argument("raw_dir", type=Path, nargs="?", default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, default=Path("data/processed"))
    p.add_argument("--strict", action="store_true", help="any rejected row is an error")
    _add_profile_option(p)
    p.set_defaults(func=_cmd_clean)

    p = sub.add_parser(
        "inspect",
        help="explain, writing nothing, what the cleaner makes of each file, sheet and header",
    )
    p.add_argument("raw_dir", type=Path, nargs="?", default=DEFAULT_DATA)
    p.add_argument("--json", action="store_true", help="print JSON instead of a text table")
    _add_profile_option(p)
    p.set_defaults(func=_cmd_inspect)

    p = sub.add_parser(
        "figures",
        help="print the key figures of a period as JSON (what the batch writes to key_figures.json)",
    )
    p.add_argument("raw_dir", type=Path, nargs="?", default=DEFAULT_DATA)
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--as-of", dest="as_of", default=None, help="reporting date (default: 31 Dec)")
    _add_profile_option(p)
    p.set_defaults(func=_cmd_figures)

    p = sub.add_parser(
        "report",
        help="run the reports of one year (or of one reporting date) into HTML reports",
        description="Run the six reports of one year into <out>/<year>/. With --as-of, report "
        "that date instead, in a folder of its own (never over the year's pages): a month's last "
        "day is that month (its 调度简报 in <out>/<yyyy-mm>/), any other date <out>/<yyyy-mm-dd>/.",
    )
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, default=DEFAULT_REPORTS)
    p.add_argument(
        "--as-of",
        dest="as_of",
        default=None,
        help="reporting date YYYY-MM-DD in --year: a month-end is that month (2021-06/), "
        "another date its own folder (2021-06-15/); 31 Dec is the year",
    )
    p.add_argument(
        "--page",
        dest="pages",
        action="append",
        default=None,
        metavar="PAGE",
        type=_page_name,
        help="run this page only (repeat for several): "
        + ", ".join([*NOTEBOOKS, *MONTHLY_NOTEBOOKS])
        + "; a month runs 60_dispatch, a year or a date the others. The index lists the "
        "other pages as they were",
    )
    p.add_argument("--force", action="store_true", help="re-run even when nothing changed")
    _add_wait_option(p)
    _add_profile_option(p)
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "batch",
        help="run the reports of several years and months in parallel",
        description="Run the reports of several periods in parallel, each into its own folder: "
        "a year's six reports into <out>/<yyyy>/, a month's 调度简报 (一月一调度) into "
        "<out>/<yyyy-mm>/. Unchanged periods are skipped; a ledger change re-runs only the "
        "periods whose data up to their end it changes. When --data is a data root (sub-folders "
        "each with a district's ledgers and its zhengshou.toml), every district goes to "
        "<out>/<district>/ and the city view (市级汇总) to <out>/city/<period>/ and "
        "<out>/index.html (docs/districts.md).",
    )
    p.add_argument(
        "--years",
        default=None,
        help="2019-2022 or 2019,2021 (default: every year, unless --months or --as-of is given)",
    )
    p.add_argument(
        "--months",
        default=None,
        help="monthly dispatch runs: 2021 (all twelve months), 2021-01..2021-06 or 2021-03,2021-05 "
        "(each into <out>/<yyyy-mm>/; may be combined with --years)",
    )
    p.add_argument(
        "--as-of",
        dest="as_of",
        default=None,
        help="one reporting date YYYY-MM-DD: a month-end is that month, another date its own "
        "folder <out>/<yyyy-mm-dd>/",
    )
    p.add_argument("--jobs", type=int, default=None)
    p.add_argument(
        "--scheduler",
        default=None,
        help="run on a Dask cluster instead of this machine's processes: tcp://HOST:8786 (a "
        "running `dask scheduler`; workers need the package and the data and reports folders at "
        "the same path) or local:N (N worker processes here, to try it)",
    )
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--out", type=Path, default=DEFAULT_REPORTS)
    p.add_argument("--force", action="store_true", help="re-run even when nothing changed")
    _add_wait_option(p)
    _add_profile_option(p)
    p.set_defaults(func=_cmd_batch)

    p = sub.add_parser("data-dictionary", help="print (or write) the data dictionary")
    p.add_argument("--out", type=Path, default=None)
    p.set_defaults(func=_cmd_data_dictionary)

    p = sub.add_parser("indicators-doc", help="print (or write) the indicator definitions (口径)")
    p.add_argument("--out", type=Path, default=None)
    p.set_defaults(func=_cmd_indicators_doc)

    p = sub.add_parser("profile-doc", help="print (or write) the reference of zhengshou.toml")
    p.add_argument("--out", type=Path, default=None)
    p.set_defaults(func=_cmd_profile_doc)

    p = sub.add_parser("init", help="write a commented office profile (zhengshou.toml)")
    p.add_argument("dir", type=Path, nargs="?", default=Path("."), help="folder (default: here)")
    p.add_argument("--force", action="store_true", help="overwrite an existing zhengshou.toml")
    p.set_defaults(func=_cmd_init)
    return parser


def _no_cycle_collection() -> bool:
    """Pause the cyclic garbage collector for a command that runs once and exits (``clean``).

    Cleaning allocates millions of objects (the reader's cells, the parsed columns, the quality
    log) and makes almost no reference cycles (about 1,700 for a 100,000-row ledger, freed by
    reference counting or at exit): the collector's passes over the live objects only cost time,
    about 0.3-0.5 s of CPU for 100,000 rows, on the main thread and the read-ahead's. At exit the
    objects are frozen (:func:`gc.freeze`), so that the interpreter does not collect them one
    last time before the process ends (about 0.2 s after pandas and pyarrow were imported).

    Returns
    -------
    bool
        Whether the collector was enabled (:func:`main` enables it again on return: a caller in
        the same process, such as a test, keeps its collector).
    """
    enabled = gc.isenabled()
    gc.disable()
    atexit.unregister(gc.freeze)  # registered once, however often main() runs in a process
    atexit.register(gc.freeze)
    return enabled


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``zhengshou`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    collecting = False  # the collector to enable again on return
    try:
        if args.command == "clean":
            from .ledger.ingest import prefetch_raw_files

            collecting = _no_cycle_collection()
            prefetch_raw_files(args.raw_dir)  # parses (without the GIL) while pandas imports
        if "profile" in vars(args):
            _load_profile(args)  # validated before any work: a bad profile leaves no output
        return int(args.func(args))
    except (OutputError, BusyError, InputChangedError) as exc:
        # the environment, not the input: a batch says so with 1 (as a failed report), others 2
        sys.stderr.write(f"zhengshou {args.command}: {exc}\n")
        return 1 if args.command in _RUN_COMMANDS else 2
    except ZhengshouError as exc:
        sys.stderr.write(f"zhengshou {args.command}: {exc}\n")
        return 2
    except OSError as exc:  # a fault no layer below named (a disk gone mid-run): still words
        from .outfolder import output_error

        where = exc.filename or getattr(args, "out", None) or "."
        sys.stderr.write(f"zhengshou {args.command}: {output_error(exc, where)}\n")
        return 1 if args.command in _RUN_COMMANDS else 2
    except KeyboardInterrupt:
        sys.stderr.write("zhengshou: interrupted\n")
        return 130
    finally:
        if collecting:
            gc.enable()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
