"""The host policy (issue 14, item 1): a hostile portal cannot make the crawler fetch anything but the portal.

A loopback portal whose report's attachments answer 302 to an "internal" service on another port of the same
machine (by name and by address), to the cloud metadata address 169.254.169.254 and to the portal's own port
under another name, and whose pages link straight to the internal service. The internal service must receive no
request at all; each refused redirect hop is an `errors` row (stage `policy`) and nothing of it is in `fetches`.
"""

from __future__ import annotations

import ipaddress
import sqlite3
import threading

import pytest

from crawler.policy import AddressRefused, CheckedResolver, HostPolicy, is_special
from crawler.portals import Portal
from nianbao.demo.server import PortalServer
from nianbao.demo.site import Page, article, attachments, chrome, column_page
from tests.crawling import run_crawl
from tests.gold import FIXTURES

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TITLE = "湘潭县数据局2024年政府信息公开工作年度报告"


def _start(server: PortalServer) -> PortalServer:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def hostile_pages(portal_port: int, internal_port: int) -> tuple[dict[str, Page], dict[str, str]]:
    """The portal's pages, and the redirect targets its attachments answer with (attachment path -> target)."""
    internal = f"http://127.0.0.1:{internal_port}"
    redirects = {
        "/uploads/a.docx": f"http://localhost:{internal_port}/secret/a.docx",
        "/uploads/b.docx": "http://169.254.169.254/latest/meta-data/iam/security-credentials/role.docx",
        "/uploads/c.docx": f"{internal}/secret/c.docx",
        "/uploads/d.docx": f"http://localhost:{portal_port}/uploads/real.docx",  # the portal's port, another name
        "/uploads/e.docx": "/uploads/real.docx",  # a redirect on the portal itself: followed
    }
    report_page = article(TITLE, "<p>详见附件。</p>" + attachments(
        *((path, f"{TITLE}.docx") for path in redirects), (f"{internal}/direct/{TITLE}.docx", f"{TITLE}.docx")),
        "湘潭县数据局", "2025-01-20")
    column = column_page("政府信息公开年报", [
        ("/nb/2024.html", TITLE),
        (f"{internal}/nb/2023.html", "湘潭县数据局2023年政府信息公开工作年度报告"),
        (f"http://localhost:{internal_port}/nb/2022.html", "湘潭县数据局2022年政府信息公开工作年度报告"),
    ], extra=f'<a href="{internal}/zwgk/index_1.html">下一页</a><a href="{internal}/bm/">部门信息公开</a>')
    pages = {
        "/": Page(chrome("湘潭县人民政府", '<a href="/zwgk/index.html">政务公开</a>').encode()),
        "/zwgk/index.html": Page(column.encode()),
        "/nb/2024.html": Page(report_page.encode()),
        "/uploads/real.docx": Page((FIXTURES / "seed-001.docx").read_bytes(), DOCX),
        **{path: Page(b"", "text/html", status=302, location=target) for path, target in redirects.items()},
    }
    return pages, redirects


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory):
    internal = _start(PortalServer(("127.0.0.1", 0), pages={"/": Page(b"internal")}))
    portal = PortalServer(("127.0.0.1", 0), pages={})
    internal_port, portal_port = internal.server_address[1], portal.server_address[1]
    portal.pages, redirects = hostile_pages(portal_port, internal_port)
    _start(portal)
    db_path = tmp_path_factory.mktemp("ssrf") / "nianbao.db"
    try:
        summary = run_crawl(db_path, [portal.base_url + "/"])
    finally:
        for server in (internal, portal):
            server.shutdown()
            server.server_close()
    db = sqlite3.connect(db_path)
    yield {"summary": summary, "db": db, "internal": internal, "internal_port": internal_port,
           "portal": portal, "redirects": redirects}
    db.close()


def test_internal_service_receives_no_request(crawled):
    assert crawled["internal"].served_since() == []
    assert crawled["summary"]["status"] == "finished"


def test_nothing_off_the_portal_is_in_fetches(crawled):
    urls = [u for (u,) in crawled["db"].execute("SELECT url FROM fetches")]
    portal = crawled["portal"].base_url + "/"
    assert urls and all(u.startswith(portal) for u in urls), urls
    assert not [u for u in urls if str(crawled["internal_port"]) in u or "169.254" in u or "localhost" in u]


def test_each_refused_redirect_hop_is_a_policy_error(crawled):
    port = crawled["internal_port"]
    errors = {url: message for url, message in crawled["db"].execute(
        "SELECT url, message FROM errors WHERE stage = 'policy'")}
    targets = [t for t in crawled["redirects"].values() if t.startswith("http")]
    assert sorted(errors) == sorted(targets)
    assert errors[f"http://127.0.0.1:{port}/secret/c.docx"] == (
        f"refused by the host policy: port {port} of 127.0.0.1 is not a port the crawl started on "
        f"({crawled['portal'].server_address[1]})")
    assert errors["http://169.254.169.254/latest/meta-data/iam/security-credentials/role.docx"] == (
        "refused by the host policy: host '169.254.169.254' is not one of the crawl's hosts (127.0.0.1)")
    assert errors[f"http://localhost:{port}/secret/a.docx"].startswith("refused by the host policy: host 'localhost'")
    # A policy refusal is a failure the run counts (only robots.txt refusals are not).
    assert crawled["summary"]["errors"] == len(targets)


def test_redirect_within_the_portal_is_followed_and_its_report_kept(crawled):
    portal = crawled["portal"].base_url
    statuses = dict(crawled["db"].execute("SELECT url, status FROM fetches WHERE url LIKE '%/uploads/%'"))
    assert statuses[portal + "/uploads/e.docx"] == 302 and statuses[portal + "/uploads/real.docx"] == 200
    [(url,)] = crawled["db"].execute("SELECT url FROM reports").fetchall()
    assert url == portal + "/uploads/real.docx"


# -- the policy's decisions, without a crawl ------------------------------------------------------------------

def _policy(*start_urls: str, hosts: tuple[str, ...] = (), resolved: dict[str, list[str]] | None = None):
    hosts = hosts or tuple(sorted({u.split("/")[2].split(":")[0] for u in start_urls}))
    portal = Portal(name="p", start_urls=start_urls, hosts=hosts)
    return HostPolicy.for_portals([portal], resolve=lambda host: (resolved or {}).get(host, []))


def test_scheme_host_and_port():
    policy = _policy("http://www.xtx.gov.cn/", "http://www.xtx.gov.cn/6571/index.html")
    assert policy.allows("http://www.xtx.gov.cn/a.html")
    assert policy.allows("https://www.xtx.gov.cn/a.html")  # http -> https upgrade
    assert policy.allows("http://files.www.xtx.gov.cn/a.pdf")  # a subdomain, default port
    assert not policy.allows("http://www.xtx.gov.cn:8080/a.html")
    assert not policy.allows("http://files.www.xtx.gov.cn:6379/")
    assert not policy.allows("ftp://www.xtx.gov.cn/a.pdf")
    assert not policy.allows("file:///etc/passwd")
    assert not policy.allows("http://xtx.gov.cn/")
    loopback = _policy("http://127.0.0.1:8765/")
    assert loopback.allows("http://127.0.0.1:8765/x.html")
    for url in ("http://127.0.0.1:8766/", "http://127.0.0.1/", "http://localhost:8765/", "http://127.0.0.2:8765/",
                "http://[::1]:8765/", "http://[::ffff:127.0.0.1]:8765/", "http://0.0.0.0:8765/"):
        assert not loopback.allows(url), url


def test_names_are_checked_against_the_addresses_they_resolve_to():
    public = _policy("http://www.xtx.gov.cn/", resolved={"www.xtx.gov.cn": ["61.187.1.1"]})
    assert public.addresses == frozenset()
    assert public.address_refusal("www.xtx.gov.cn", "61.187.1.1") is None
    for address, kind in (("127.0.0.1", "loopback"), ("169.254.169.254", "link-local"), ("10.0.0.8", "private"),
                          ("192.168.1.1", "private"), ("::1", "loopback"), ("::ffff:10.1.2.3", "private"),
                          ("224.0.0.1", "multicast"), ("100.64.0.1", "non-public")):
        assert public.address_refusal("files.www.xtx.gov.cn", address) == (
            f"files.www.xtx.gov.cn resolves to {ipaddress.ip_address(address.removeprefix('::ffff:'))}, "
            f"a {kind} address the crawl was not started on"), address
    # An intranet portal started by name: the private address it resolved to at the start is allowed, no other.
    intranet = _policy("http://portal.corp/", resolved={"portal.corp": ["10.0.0.5"]})
    assert intranet.address_refusal("portal.corp", "10.0.0.5") is None
    assert intranet.address_refusal("portal.corp", "10.0.0.6") is not None
    assert intranet.address_refusal("portal.corp", "127.0.0.1") is not None


def test_resolver_refuses_an_address_the_policy_refuses():
    """What Scrapy connects to: a name that rebinds to 127.0.0.1 after the check is refused when resolved again."""
    resolver = CheckedResolver.__new__(CheckedResolver)
    resolver.policy = _policy("http://www.xtx.gov.cn/")
    assert resolver._checked("61.187.1.1", "www.xtx.gov.cn") == "61.187.1.1"
    with pytest.raises(AddressRefused, match="127.0.0.1, a loopback address"):
        resolver._checked("127.0.0.1", "www.xtx.gov.cn")
    assert is_special(ipaddress.ip_address("169.254.169.254")) and not is_special(ipaddress.ip_address("8.8.8.8"))
