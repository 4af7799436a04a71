"""End to end in a real headless Chromium with Chinese fonts: a report page, coverage, a two-character search from
the reports table's own box, and the dashboard, as a journalist sees them. Screenshots go to docs/screenshots/
(shown in the README)."""

from __future__ import annotations

import shutil
import subprocess
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
SCREENSHOTS = Path(__file__).parents[1] / "docs" / "screenshots"


@pytest.fixture
def browser(tmp_path: Path):
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.fail("Debian chromium and chromium-driver are needed (make system-deps installs them)")
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    if "CJK" not in fonts:
        pytest.fail("no Chinese font: install Debian fonts-noto-cjk (make system-deps does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1400,1000", "--lang=zh-CN"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _screenshot(browser, name: str) -> None:
    """The whole page at 1400 px wide."""
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(max(height + 40, 600), 4000))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    assert (SCREENSHOTS / f"{name}.png").stat().st_size > 20_000, name
    browser.set_window_size(1400, 1000)


def test_report_coverage_search_and_dashboard(browser, tmp_path: Path):
    db_path, ids = build_archive(tmp_path)
    wait = WebDriverWait(browser, 20)
    with running_datasette(db_path) as base:
        # the home page: where to start, then the search box
        browser.get(base)
        body = browser.find_element(By.TAG_NAME, "body").text
        assert body.index("从这里开始") < body.index("全部数据表") and "报告一览" in body

        # a report as published, its failed check on the cells it concerns
        browser.get(f"{base}/-/reports/{ids['seed-004']}")
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "湘潭县人力资源和社会保障局2024年政府信息公开工作年度报告" in body
        assert "三、收到和处理政府信息公开申请情况" in body and "未通过的校验" in body
        granted = browser.find_element(By.CSS_SELECTOR, 'td[data-cell="applications.granted.total"]')
        assert granted.is_displayed() and granted.text == str(load_gold("seed-004")["applications"]["granted"]["total"])
        failed = browser.find_elements(By.CSS_SELECTOR, "td.nb-failed")
        assert len(failed) == 4 and all(cell.is_displayed() for cell in failed)
        _screenshot(browser, "report")

        # coverage: region × year
        browser.get(f"{base}/-/coverage")
        table = browser.find_element(By.CSS_SELECTOR, "table.nb-coverage").text
        assert "湘潭县" in table and "攸县" in table and "缺 1" in table and "校验未过 1" in table
        _screenshot(browser, "coverage")

        # two characters typed into the reports table's own search box
        browser.get(f"{base}/nianbao/reports")
        box = wait.until(EC.presence_of_element_located((By.NAME, "_search")))
        box.send_keys("复议")
        box.submit()
        wait.until(EC.url_contains("/-/search"))
        results = browser.find_elements(By.CSS_SELECTOR, "ul.nb-results li")
        assert len(results) == 5 and all(r.find_element(By.TAG_NAME, "mark").text == "复议" for r in results)
        assert "湘潭县易俗河镇2024年政府信息公开工作年度报告" in browser.find_element(By.TAG_NAME, "body").text
        _screenshot(browser, "search")

        # the dashboard: charts drawn, Chinese titles
        browser.get(f"{base}/-/dashboards/requests?region=湘潭县")
        wait.until(EC.presence_of_all_elements_located((By.CSS_SELECTOR, "#chart-requests-per-year svg, "
                                                                         "#chart-requests-per-year canvas")))
        body = browser.find_element(By.TAG_NAME, "body").text
        assert "每年新收申请" in body and "每年档案中的报告数" in body and "每年办理结果" in body
        _screenshot(browser, "dashboard")
