"""A real browser opens the reports from file:// with the network off (needs Debian's chromium)."""

from __future__ import annotations

import shutil

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip(
            "no chromium on this machine: `apt-get install chromium` (.ci/run does) to run the browser test"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright (dev extra) is not installed"
    )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.mark.parametrize(
    ("page_path", "n_images"),
    [
        ("index.html", 1),
        ("2021/00_overview.html", 0),
        ("2021/20_progress.html", 2),
        ("2021/50_delivery.html", 2),
    ],
)
def test_report_renders_offline(browser, batch_run, report_env, tmp_path, page_path, n_images):
    ctx = browser.new_context(offline=True, viewport={"width": 1100, "height": 1400})
    page = ctx.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "request",
        lambda r: (
            problems.append(f"request {r.url}")
            if not r.url.startswith(("file:", "data:"))
            else None
        ),
    )
    page.goto((report_env["out"] / page_path).as_uri())
    page.wait_for_load_state("load")
    images = page.evaluate(
        "Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert len(images) == n_images
    assert all(ok and w > 100 and h > 100 for ok, w, h in images), images
    # Chinese text is drawn with the embedded font, whatever fonts the machine has
    assert page.evaluate("document.fonts.check(\"16px 'ZS Noto Sans CJK SC'\", '示例数据')")
    assert "示例数据（模拟）" in page.inner_text("body")
    if page_path != "index.html":  # on screen, a report leads back to the index
        back = page.get_by_role("link", name="返回报告目录")
        assert back.is_visible() and back.get_attribute("href") == "../index.html"
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    assert problems == []
    ctx.close()
