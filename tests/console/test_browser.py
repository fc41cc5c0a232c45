"""The console in a real browser (issue 12): Playwright drives the Debian `chromium` (never a
downloaded browser) through what an auditor does — sign in, read the overview, search a color,
open its trace, move the as-of control, filter the flags inbox, record a disposition, download an
inclusion proof — asserting on what the pages show and that the browser logged no error.
Screenshots go to the test's temporary directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ledger.app import Ledger
from tests.console.support import CASH_IDS, SPEND_ID, prepare_console_store
from tests.http.support import served

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason=f"{CHROMIUM} is not installed (apt-get install chromium)")


def test_an_auditor_works_through_the_console(tmp_path: Path):
    world = prepare_console_store(tmp_path / "ledger.sqlite")
    color = world.names["color"]
    ledger = Ledger(world.url, actor="dana")
    try:
        [pay_position] = ledger.read_side().transaction_positions("PAY-1")
    finally:
        ledger.close()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    problems: list[str] = []
    with served(world.url, log_path=tmp_path / "serve.log") as base, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
                if message.type in ("error", "warning") else None)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("response", lambda response: problems.append(f"{response.status} {response.url}")
                if response.status >= 400 else None)
        page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
        page.on("request", lambda request: None if request.url.startswith(base) else problems.append(f"outside: {request.url}"))

        # sign in: the console sends us to the login page first
        page.goto(base + "/")
        assert "/login" in page.url
        page.fill("input[name=token]", world.tokens["auditor"])
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        assert page.locator("#actor").inner_text() == "dana"
        money = page.locator("#money tbody tr").first.inner_text()
        assert "ROAD" in money and "1000000.00" in money
        assert "F07" in page.locator("#flags").inner_text()
        assert "#1" in page.locator("#checkpoint").inner_text()
        assert "passed" in page.locator("#verify").inner_text()
        page.screenshot(path=shots / "1-overview.png", full_page=True)

        # search a color and open its trace
        page.click("nav >> text=Colors")
        page.fill("input[name=q]", "test allocation")
        page.click("form.filters button[type=submit]")
        assert page.locator("#count").inner_text() == "1 of 1 colors"
        page.click(f"#colors >> text={color}")
        page.wait_for_selector("svg.sankey[data-ready='1']")  # the diagram's script ran
        page.locator("svg.sankey [data-node]").first.dispatch_event("mouseenter")  # pointing at a holder
        assert "focus" in (page.locator("svg.sankey").get_attribute("class") or "")  # its bands highlighted
        assert "PAY-1" in page.locator("#history").inner_text()
        page.screenshot(path=shots / "2-color-trace.png", full_page=True)

        # move the as-of control to just before the first payment: the page re-renders as then
        slider = page.locator("#position")
        with page.expect_navigation():
            slider.evaluate("(el, value) => { el.value = value; el.dispatchEvent(new Event('input'));"
                            " el.dispatchEvent(new Event('change')); }", str(pay_position - 1))
        assert f"store position @{pay_position - 1}" in page.locator("#as-of-label").inner_text()
        assert "PAY-1" not in page.locator("#history").inner_text()
        page.screenshot(path=shots / "3-color-as-of.png", full_page=True)

        # the flags inbox: filter, then record a disposition
        page.click("nav >> text=Flags")
        page.select_option("select[name=rule]", "F07")
        page.select_option("select[name=status]", "open")
        page.click("#flag-filters button[type=submit]")
        cards = page.locator("article.flag")
        assert cards.count() == len(CASH_IDS)
        first = page.locator(f"article[data-flag='F07:{CASH_IDS[0]}']")
        assert "withdraw" in first.locator(".explanation").inner_text()
        first.locator("select[name=disposition]").select_option("confirmed")
        first.locator("input[name=comment]").fill("cash withdrawn by the contractor; reported to the prosecutor")
        first.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("article.flag").count() == len(CASH_IDS) - 1  # back on the open cases: one fewer
        page.click(".tabs >> text=Closed cases")
        closed = page.locator(f"article[data-flag='F07:{CASH_IDS[0]}']")
        assert closed.locator(".badge.status").first.inner_text() == "confirmed"
        assert "reported to the prosecutor" in closed.inner_text() and "dana" in closed.inner_text()
        assert page.locator("#precision-F07 .real").inner_text() == "1.0000"
        page.screenshot(path=shots / "4-flags-inbox.png", full_page=True)

        # a transaction's provenance, and its inclusion proof as a download
        page.goto(base + f"/transactions/{SPEND_ID}")
        assert "PAY-2" in page.locator("#provenance").inner_text()
        with page.expect_download() as download_info:
            page.click("#download-proof")
        saved = tmp_path / "proof.json"
        download_info.value.save_as(saved)
        proof = json.loads(saved.read_text())
        assert proof["kind"] == "inclusion" and proof["transaction"] == SPEND_ID and proof["checkpoint"]["signature"]
        page.screenshot(path=shots / "5-transaction.png", full_page=True)
        browser.close()
    assert problems == []
    assert sorted(p.name for p in shots.iterdir()) == ["1-overview.png", "2-color-trace.png", "3-color-as-of.png",
                                                       "4-flags-inbox.png", "5-transaction.png"]
