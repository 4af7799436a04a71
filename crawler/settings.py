"""Scrapy settings: polite by default, because the crawl runs unattended against small county web servers.

Tests and `nianbao demo` override the delays (settings_overrides in crawler.run.crawl); nothing else should.
"""

import os

BOT_NAME = "nianbao"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Where fetches, raw bodies and reports go (the archive of DESIGN.md).
NIANBAO_DB = "data/nianbao.db"
# Who to write to when the crawler misbehaves; goes into the User-Agent (set NIANBAO_CONTACT in the environment
# or with -s NIANBAO_CONTACT=...).
NIANBAO_CONTACT = os.environ.get("NIANBAO_CONTACT", "https://github.com/nianbao/nianbao/issues")
# Link hops from a start page through disclosure navigation (政务公开 -> 信息公开年报 -> 部门 -> 栏目);
# pagination and report links do not count.
NIANBAO_MAX_HOPS = 5
# Crawl budgets (crawler/budgets.py; a registry entry may set its own `budgets:`). A county portal's 年报 column
# holds ~100 bodies x 10 years ≈ 1,000 reports, 15-20 a list page: ~70 pages; each limit is far above that.
# An endless pager chain is sequential at DOWNLOAD_DELAY 1 s (AutoThrottle never goes below it): 150 pages x
# (1 s + ≤0.5 s latency) ≈ 225 s, so such a trap ends within 5 minutes at the default politeness.
NIANBAO_BUDGET_PAGER_PAGES = 150
# A list page carries ~100-300 links (menus included).
NIANBAO_BUDGET_PAGE_LINKS = 2_000
# A county portal's crawl is a few hundred to a few thousand requests; 20,000 is 5.5 hours at 1 request a second.
NIANBAO_BUDGET_PORTAL_REQUESTS = 20_000
# Every registered portal together (0: no limit).
NIANBAO_BUDGET_CRAWL_REQUESTS = 100_000
# The archive commits the writes of this many seconds together: a commit costs more than writing a report, and a
# kill loses at most these seconds of work (whole pages only), plus the writes queued for the archive's writer
# process (crawler.archive_process.QUEUE_SIZE), which the next crawl fetches again.
NIANBAO_COMMIT_SECONDS = 1.0
# Hanweb dataproxy groups are requested this many records at a time at most.
NIANBAO_HANWEB_GROUP = 45

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024  # scanned reports run to tens of MB; anything bigger is not a report
# A body cut short (fewer bytes than Content-Length) still reaches the archive, flagged "dataloss";
# crawler.middlewares.BrokenResponsesMiddleware retries it and, in the end, records it as an error.
DOWNLOAD_FAIL_ON_DATALOSS = False
RETRY_ENABLED = True
RETRY_TIMES = 3
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOGSTATS_INTERVAL = 30.0  # the progress line: pages crawled, reports stored ("items")
LOG_LEVEL = "INFO"

DOWNLOADER_MIDDLEWARES = {
    # Requests pass from low numbers to high: the host policy sees every request first, redirect hops included
    # (crawler/policy.py); Scrapy's offsite check (50) skips dont_filter requests, the policy does not.
    "crawler.policy.HostPolicyMiddleware": 40,
    "crawler.budgets.BudgetMiddleware": 45,  # counts what the policy let through
    # Responses pass from high numbers to low. Decompression moves from 590 to 610 so that the archive (605)
    # stores decoded bodies yet sees every response before Redirect (600) and Retry (550) act on it: a 301 and
    # a 500 that is retried are fetches too.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": 610,
    "crawler.middlewares.ArchiveFetchesMiddleware": 605,
    "crawler.middlewares.BrokenResponsesMiddleware": 604,
    # JS cookie challenges and WAF block pages: archived (605), then never retried, followed or parsed.
    "crawler.challenge.ChallengeMiddleware": 603,
}
# Resolves names for connections and refuses an address the host policy refuses (DNS rebinding).
TWISTED_DNS_RESOLVER = "crawler.policy.CheckedResolver"
ITEM_PIPELINES = {"crawler.pipelines.StoreReportsPipeline": 300}
EXTENSIONS = {
    # Opens the archive, starts the run when the spider opens, closes it from crawler.stats (nianbao/…).
    "crawler.storage.ArchiveStorage": 0,
    # With JOBDIR set (nianbao crawl --jobdir): resume after a stop, recover after a kill, start fresh after a
    # finish. After the storage: it names the run.
    "crawler.jobdir.JobDirGuard": 10,
}
# `scrapy crawl portal -o reports.json` writes Chinese as itself, not \u escapes (Scrapy's default is None).
FEED_EXPORT_ENCODING = "utf-8"
