"""Warm kernels (``report/kernels.py``): a notebook run after another in one kernel gives what a
fresh kernel gives; a failed run, a dead kernel and a used-up kernel are replaced.

The leak pair is purpose-made: notebook A changes what a notebook can change (a global, pandas and
numpy options, ``rcParams``, warnings, logging, the random states, the working directory,
``sys.path``, the environment, an open figure) and notebook B shows each. B run after A in a warm
kernel must equal B run in a fresh kernel, output for output, execution counts included. The slow
tests do the same with two report notebooks on the demo ledgers (their figures byte for byte) and
with the demo year's whole batch against the batch with ``ZHENGSHOU_WARM_KERNELS=0``.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import papermill as pm
import psutil
import pytest
from procs import kernel_processes

from zhengshou_analysis.periods import Period
from zhengshou_analysis.report import kernels
from zhengshou_analysis.report.batch import run_batch
from zhengshou_analysis.report.catalog import NOTEBOOKS
from zhengshou_analysis.report.engine import execute_tasks, local_pool
from zhengshou_analysis.report.kernels import (
    WARM_KERNELS_ENV,
    execute_in_warm_kernel,
    shutdown_thread_kernel,
    thread_kernel,
    warm_kernels_enabled,
)
from zhengshou_analysis.report.runs import RunTask

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
PERIOD = Period.year_end(2021)

#: Notebook A: changes every piece of kernel state we know a notebook can change.
LEAK_A = [
    "from __future__ import annotations",
    "secret = 42",
    "import pandas as pd\npd.set_option('display.max_rows', 3)\npd.set_option('display.precision', 1)",
    "import matplotlib as mpl\nmpl.rcParams['lines.linewidth'] = 7.0\nmpl.rcParams['figure.figsize'] = (2.0, 2.0)",
    "import matplotlib.pyplot as plt\nplt.ioff()\nfig = plt.figure()",  # left open, never shown
    "import warnings\nimport numpy as np\nnp.mean([])\nwarnings.simplefilter('ignore')",
    "np.set_printoptions(precision=1)\nnp.seterr(all='raise')",
    "import logging\nlogging.basicConfig(level=logging.DEBUG)\nlogging.getLogger('leak').setLevel(1)",
    "import random\nrandom.seed(0)\nnp.random.seed(0)",
    "import os, sys\nos.chdir('/')\nsys.path.insert(0, '/leak')\nos.environ['ZS_LEAK'] = '1'",
    "%precision 1",
    "get_ipython().display_formatter.formatters['text/plain'].for_type(float, lambda x, p, c: p.text('F'))",
    "1.23456",
]
#: Notebook B: shows each of them (what it prints depends on nothing else).
LEAK_B = [
    "print('secret' in globals(), [k for k in ('fig', 'pd', 'np', 'plt', 'mpl') if k in globals()])",
    "import pandas as pd\npd.DataFrame({'x': [0.123456] * 8})",
    "import numpy as np\nprint(np.array([0.123456]), np.geterr()['divide'])",
    (
        "import matplotlib as mpl\nimport matplotlib.pyplot as plt\n"
        "print(mpl.rcParams['lines.linewidth'], mpl.rcParams['figure.figsize'], plt.get_fignums())"
    ),
    "fig, ax = plt.subplots()\nax.plot([0, 1, 0])\nplt.show()",
    "np.mean([])",  # warned in A: a fresh kernel warns here too
    (
        "import logging\nlogging.getLogger('leak').info('leaked handler')\n"
        "print(logging.getLogger().level, logging.getLogger().handlers)"
    ),
    "import random\nprint(random.random() == 0.8444218515250481, np.random.random() == 0.5488135039273248)",
    "import os, sys\nprint(os.getcwd() == _cwd, '/leak' in sys.path, 'ZS_LEAK' in os.environ)",
    "1.23456",
    "def f(x: int) -> None: ...\nprint(f.__annotations__)",
    "print(len(In), len(Out), _i1[:5])",
]


def _notebook(path: Path, cells: list[str]) -> Path:
    """A notebook of ``cells`` with a parameters cell (``_cwd``) first, written to ``path``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = nbformat.v4.new_code_cell("_cwd = ''")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(c) for c in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def _fresh(source: Path, out: Path, parameters: dict) -> None:
    """Run ``source`` in a fresh kernel as papermill does without a warm kernel."""
    pm.execute_notebook(
        str(source),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(source.parent),
    )


def _warm(source: Path, out: Path, parameters: dict) -> None:
    execute_in_warm_kernel(str(source), str(out), parameters=parameters, cwd=str(source.parent))


def _streams_joined(outputs: list) -> list:
    """``outputs`` with consecutive stream outputs of one stream joined: how a ``print`` is cut
    into messages depends on when the kernel's output thread flushes (the load of the machine),
    not on the kernel's state, and a notebook shows the pieces as one text."""
    joined: list = []
    for o in outputs:
        last = joined[-1] if joined else None
        if (
            o.get("output_type") == "stream"
            and last is not None
            and last.get("output_type") == "stream"
            and last.get("name") == o.get("name")
        ):
            joined[-1] = {**last, "text": last["text"] + o["text"]}
        else:
            joined.append(dict(o))
    return joined


def _cells(path: Path) -> list[tuple]:
    """Each code cell's execution count, outputs (a stream's pieces joined) and metadata
    (papermill's timings left out)."""
    nb = nbformat.read(path, as_version=4)
    return [
        (
            c.execution_count,
            _streams_joined(c.outputs),
            {k: v for k, v in c.metadata.items() if k not in ("papermill", "execution")},
        )
        for c in nb.cells
        if c.cell_type == "code"
    ]


@pytest.fixture
def warm():
    """The test thread's warm kernel, stopped before and after, its count of starts from 0."""
    kernel = thread_kernel()
    kernel.shutdown()
    kernel.started = 0
    yield kernel
    shutdown_thread_kernel()


def test_warm_kernels_are_on_unless_the_variable_says_0(monkeypatch):
    monkeypatch.delenv(WARM_KERNELS_ENV, raising=False)
    assert warm_kernels_enabled()
    for off in ("0", "false", "No", " off "):
        monkeypatch.setenv(WARM_KERNELS_ENV, off)
        assert not warm_kernels_enabled()
    monkeypatch.setenv(WARM_KERNELS_ENV, "1")
    assert warm_kernels_enabled()


def test_b_after_a_in_a_warm_kernel_is_b_from_a_fresh_kernel(tmp_path, warm):
    a = _notebook(tmp_path / "nb" / "a.ipynb", LEAK_A)
    b = _notebook(tmp_path / "nb" / "b.ipynb", LEAK_B)
    params = {"_cwd": str(b.parent)}
    _fresh(b, tmp_path / "b_fresh.ipynb", params)
    _warm(a, tmp_path / "a_warm.ipynb", params)
    pid = warm.pid
    _warm(b, tmp_path / "b_warm.ipynb", params)
    assert warm.pid == pid and warm.started == 1  # one kernel ran both
    fresh, after_a = _cells(tmp_path / "b_fresh.ipynb"), _cells(tmp_path / "b_warm.ipynb")
    assert [c[0] for c in after_a] == list(range(1, len(LEAK_B) + 3))  # parameters, injected, B
    assert after_a == fresh
    # the notebooks show what they should: A's state really was set, B's cells saw none of it
    a_out = nbformat.read(tmp_path / "a_warm.ipynb", as_version=4)
    assert a_out.cells[-1].outputs[0]["data"]["text/plain"] == "F"
    text = json.dumps([c[1] for c in fresh], ensure_ascii=False)
    assert (
        "False []" in text
        and "[]\\n" in text
        and "Mean of empty slice" in text
        and "leaked handler" not in text
    )
    assert "image/png" in text and "False False" in text and "True False False" in text


@pytest.fixture
def one_cell(tmp_path):
    def make(name: str, code: str) -> Path:
        return _notebook(tmp_path / "nb" / f"{name}.ipynb", [code])

    return make


def test_a_failed_run_gets_a_fresh_kernel_for_the_next_run(tmp_path, warm, one_cell):
    _warm(one_cell("ok", "x = 1"), tmp_path / "ok.ipynb", {})
    first = warm.pid
    with pytest.raises(pm.PapermillExecutionError, match="planted"):
        _warm(one_cell("bad", "y = 2\nraise ValueError('planted')"), tmp_path / "bad.ipynb", {})
    assert warm.pid is None and not psutil.pid_exists(first)  # thrown away at once
    _warm(one_cell("after", "print('y' in globals())"), tmp_path / "after.ipynb", {})
    assert warm.started == 2 and warm.pid not in (None, first)
    assert _cells(tmp_path / "after.ipynb")[1][1][0]["text"] == "False\n"


def test_a_killed_kernel_is_replaced(tmp_path, warm, one_cell):
    nb = one_cell("ok", "print('ran')")
    _warm(nb, tmp_path / "one.ipynb", {})
    killed = psutil.Process(warm.pid)
    killed.kill()
    killed.wait(10)
    _warm(nb, tmp_path / "two.ipynb", {})
    assert warm.started == 2 and warm.pid != killed.pid
    assert _cells(tmp_path / "two.ipynb")[1][1][0]["text"] == "ran\n"


def test_a_kernel_is_replaced_after_its_runs(tmp_path, warm, one_cell, monkeypatch):
    monkeypatch.setattr(warm, "max_runs", 2)
    nb = one_cell("ok", "import os\nprint(os.getpid())")
    pids = []
    for i in range(5):
        _warm(nb, tmp_path / f"{i}.ipynb", {})
        pids.append(int(_cells(tmp_path / f"{i}.ipynb")[1][1][0]["text"]))
    assert pids[0] == pids[1] != pids[2] == pids[3] != pids[4]
    assert warm.started == 3


def test_a_changed_environment_gets_a_kernel_that_sees_it(tmp_path, warm, one_cell, monkeypatch):
    nb = one_cell("env", "import os\nprint(os.environ.get('ZS_TEST_VALUE'))")
    monkeypatch.setenv("ZS_TEST_VALUE", "one")
    _warm(nb, tmp_path / "one.ipynb", {})
    monkeypatch.setenv("ZS_TEST_VALUE", "two")
    _warm(nb, tmp_path / "two.ipynb", {})
    assert [_cells(tmp_path / f"{n}.ipynb")[1][1][0]["text"] for n in ("one", "two")] == [
        "one\n",
        "two\n",
    ]


@pytest.mark.parametrize("jobs", [1, 2])
def test_runs_share_their_worker_s_kernel_and_no_kernel_outlives_the_batch(
    tmp_path, one_cell, jobs
):
    nb = one_cell("pid", "import os\nprint(os.getpid(), os.getppid())")
    tasks = [
        RunTask(PERIOD, f"pid{i}", str(nb), str(tmp_path / "reports" / str(i)), {}, f"k{i}", False)
        for i in range(4)
    ]
    results = execute_tasks(tasks, [], jobs=jobs, progress=False, on_run=None)
    assert [r.status for r in results] == ["ok"] * 4
    pids = []
    for i in range(4):
        text = _cells(tmp_path / "reports" / str(i) / f"pid{i}.ipynb")[1][1][0]["text"]
        pids.append(tuple(map(int, text.split())))
    workers = {worker for _, worker in pids}
    assert len(workers) <= jobs
    assert len({kernel for kernel, _ in pids}) == len(workers)  # one kernel per worker
    assert not kernel_processes(psutil.Process().children(recursive=True))


def test_a_kernel_started_ahead_is_the_one_the_first_run_gets(tmp_path, one_cell):
    shutdown_thread_kernel()  # this thread's kernel object may have run earlier tests
    kernel = thread_kernel()
    before = kernel.started
    try:
        kernel.start_soon(str(tmp_path))
        kernel.start_soon(str(tmp_path))  # a second call while it starts does nothing
        kernel._wait_started()
        ahead = kernel.pid
        assert ahead is not None and kernel.started == before + 1
        nb = one_cell("first", "print(len(In), sorted(k for k in globals() if k[0] != '_'))")
        _warm(nb, tmp_path / "first.ipynb", {})
        assert kernel.pid == ahead and kernel.started == before + 1  # not restarted for the run
        _fresh(nb, tmp_path / "fresh.ipynb", {})
        assert _cells(tmp_path / "first.ipynb") == _cells(tmp_path / "fresh.ipynb")
    finally:
        shutdown_thread_kernel()


def _children_kernels() -> list[psutil.Process]:
    return kernel_processes(psutil.Process().children(recursive=True))


def test_a_pool_started_ahead_runs_in_the_kernels_it_started_before_the_work(tmp_path, one_cell):
    store = tmp_path / "store"
    store.mkdir()
    nb = one_cell(
        "ahead",
        "import os, psutil\n"
        "print(os.getpid(), psutil.Process().create_time(), os.environ['ZHENGSHOU_MODEL_STORE'])",
    )
    tasks = [
        RunTask(
            PERIOD,
            f"ahead{i}",
            str(nb),
            str(tmp_path / "r" / str(i)),
            {},
            f"k{i}",
            False,
            model_store=str(store),
        )
        for i in range(4)
    ]
    with local_pool(jobs=2, kernel_cwd=str(nb.parent), model_store=str(store)) as pool:
        assert pool is not None
        deadline = time.monotonic() + 120
        while len(_children_kernels()) < 2:  # both workers start a kernel before any work
            assert time.monotonic() < deadline, "the workers did not start their kernels"
            time.sleep(0.1)
        submitted = time.time()
        results = execute_tasks(tasks, [], jobs=2, progress=False, on_run=None, pool=pool)
        assert pool.closed  # shut down after its work
    assert [r.status for r in results] == ["ok"] * 4
    seen = [
        _cells(tmp_path / "r" / str(i) / f"ahead{i}.ipynb")[1][1][0]["text"].split()
        for i in range(4)
    ]
    assert len({pid for pid, _, _ in seen}) == 2  # one kernel per worker, never replaced
    assert all(float(created) < submitted for _, created, _ in seen)  # started ahead
    assert {where for _, _, where in seen} == {str(store)}  # the store in the kernel's environment
    assert not _children_kernels()


def test_a_pool_started_ahead_with_nothing_to_do_leaves_no_process(tmp_path):
    with local_pool(jobs=2, kernel_cwd=str(tmp_path)) as pool:
        assert pool is not None
        pool.wait_started()
        workers = [psutil.Process(pid) for pid in pool.executor._processes]
    assert len(workers) == 2 and pool.closed
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    assert not _children_kernels()


def test_one_job_starts_no_pool():
    with local_pool(jobs=1, kernel_cwd=".") as pool:
        assert pool is None


# --- the report notebooks and the batch on the demo ledgers ------------------------------------------


def _demo_parameters() -> dict:
    return {"year": 2021, "data_dir": str(DEMO)}


@pytest.mark.slow
def test_a_report_page_after_another_is_the_page_a_fresh_kernel_gives(tmp_path, warm, monkeypatch):
    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(tmp_path / "cache"))
    nb_dir = ROOT / "notebooks"
    b = nb_dir / "20_progress.ipynb"  # two charts; A draws charts and sets the house style too
    _fresh(b, tmp_path / "b_fresh.ipynb", _demo_parameters())
    _warm(nb_dir / "40_transition_fees.ipynb", tmp_path / "a.ipynb", _demo_parameters())
    _warm(b, tmp_path / "b_warm.ipynb", _demo_parameters())
    assert warm.started == 1
    fresh, after_a = _cells(tmp_path / "b_fresh.ipynb"), _cells(tmp_path / "b_warm.ipynb")
    assert sum("image/png" in json.dumps(c[1]) for c in fresh) == 2
    assert after_a == fresh  # figures byte for byte


#: What differs between two makings of a page: the footer's time of making (``生成于 2026年12月1日
#: 11:05（北京时间）``), the embedded font subset (its ``head`` table carries the time it was made)
#: and the id papermill draws for the cell of injected parameters.
_MADE_AT = re.compile(
    r"于 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}（北京时间）"
    r"|data:font/woff;base64,[A-Za-z0-9+/=]+"
    r'|id="cell-id=[0-9a-f-]+"'
)


@pytest.mark.slow
def test_the_demo_batch_with_warm_kernels_gives_the_batch_of_fresh_kernels(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHENGSHOU_CACHE_DIR", str(tmp_path / "cache"))
    outcome = {}
    for warm_on in ("1", "0"):
        monkeypatch.setenv(WARM_KERNELS_ENV, warm_on)
        out = tmp_path / f"warm{warm_on}"
        result = run_batch(data_dir=DEMO, out_dir=out, years=[2021], jobs=2, progress=False)
        assert not result.failed, [(r.notebook, r.error) for r in result.failed]
        folder = out / "2021"
        outcome[warm_on] = {
            "key_figures": (folder / "key_figures.json").read_text(encoding="utf-8"),
            "pages": {
                name: _MADE_AT.sub("", (folder / f"{name}.html").read_text(encoding="utf-8"))
                for name in NOTEBOOKS
            },
            "notebooks": {name: _cells(folder / f"{name}.ipynb") for name in NOTEBOOKS},
        }
    assert outcome["1"]["key_figures"] == outcome["0"]["key_figures"]
    assert outcome["1"]["notebooks"] == outcome["0"]["notebooks"]
    assert outcome["1"]["pages"] == outcome["0"]["pages"]


def test_the_state_is_reset_only_after_a_snapshot():
    with pytest.raises(RuntimeError, match="snapshot"):
        kernels.reset_kernel_state(".")
