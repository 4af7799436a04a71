"""End to end in a real headless Chromium: search the served archive in Chinese, open a report, read its numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from tests.archive_builder import build_archive
from tests.gold import load_gold
from tests.live import running_datasette

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser(tmp_path: Path):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("Debian chromium and chromium-driver are needed (make system-deps installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_search_open_report_and_read_its_numbers(browser, tmp_path: Path):
    db_path, ids = build_archive(tmp_path)
    wait = WebDriverWait(browser, 20)
    with running_datasette(db_path) as base:
        browser.get(f"{base}/nianbao/reports")
        box = wait.until(EC.presence_of_element_located((By.NAME, "_search")))
        box.send_keys("易俗河镇")
        box.submit()
        wait.until(EC.url_contains("_search="))
        rows = wait.until(EC.presence_of_all_elements_located((By.CSS_SELECTOR, "table.rows-and-columns tbody tr")))
        # the township's own report, and 湘潭县's 2020 report whose text gives an address in 易俗河镇
        found = {r.find_element(By.CSS_SELECTOR, "td.col-id").text: r for r in rows}
        assert sorted(found) == sorted([str(ids["seed-002"]), str(ids["seed-003"])])
        assert "湘潭县易俗河镇2024年政府信息公开工作年度报告" in found[str(ids["seed-002"])].text

        found[str(ids["seed-002"])].find_element(By.CSS_SELECTOR, "td.col-id a").click()  # the row's own page
        wait.until(EC.url_contains(f"/nianbao/reports/{ids['seed-002']}"))
        assert "湘潭县易俗河镇" in browser.find_element(By.TAG_NAME, "body").text

        browser.get(f"{base}/nianbao/report_summary?report_id={ids['seed-002']}")
        header = [th.text.split("\n")[0] for th in browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns th")]
        cells = browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr td")
        shown = dict(zip(header, (c.text for c in cells), strict=False))
        assert shown["agency"] == "湘潭县易俗河镇"
        gold = load_gold("seed-002")["applications"]
        for figure in ("new_received", "granted", "partially_granted", "total_processed", "carried_forward"):
            assert shown[figure] == str(gold[figure]["total"]), figure
        assert shown["new_received"] == "2"
        browser.execute_script("arguments[0].scrollIntoView()", cells[0])
        browser.save_screenshot(str(tmp_path / "report_summary.png"))
    assert (tmp_path / "report_summary.png").stat().st_size > 10_000
