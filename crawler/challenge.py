"""JavaScript cookie challenges and WAF block pages: recognised before the spider sees them, never parsed.

Many .gov.cn portals sit behind an anti-bot service that answers a client without its cookie with a script
that computes the cookie, or behind a WAF that answers with a block page. Such an answer is not the page asked
for; parsed as one, a challenge would look like an empty list page and the crawl would end "finished" having
found nothing. Markers, from public write-ups of the real services (tests/fixtures/real/portals/README.md):

- 加速乐 (JSL, Knownsec): HTTP 521, `Set-Cookie: __jsluid_s=…` (or `__jsluid_h`), and a script that sets
  `__jsl_clearance` / `__jsl_clearance_s` with `document.cookie` (the name is often built a character at a time)
  and reloads with `location.href=location.pathname+location.search`;
- 瑞数 (Rivers Security): HTTP 202 or 412 (sometimes 200 with next to no text), a `<meta … r='m'>` seed and a
  script starting `$_ts=window['$_ts']`;
- WAF block pages (Tencent Cloud WAF's 501page, 安全狗 …): a short page saying the visit was intercepted.

The archive keeps the bytes (ArchiveFetchesMiddleware has already stored them); the request fails with
`BlockedResponse`, which the spider records as an `errors` row with stage `blocked`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

_JSL_COOKIE = re.compile(rb"__jsluid_[sh]=|__jsl_clearance", re.I)
_JSL_SCRIPT = re.compile(rb"document\.cookie\s*=|__jsl_clearance|go\(\{", re.I)
_RUISHU = re.compile(rb"\$_ts\s*=\s*window\[['\"]\$_ts['\"]\]")
_RUISHU_META = re.compile(rb"<meta[^>]+\br\s*=\s*['\"]?m['\"\s/>]", re.I)
_WAF_WORDS = re.compile("您的访问被拦截|访问已被拦截|请求已被拦截|网站防火墙|当前访问疑似黑客攻击"
                        "|waf\\.tencent\\.com/501page|Web应用防火墙|访问被拒绝.{0,20}安全".encode(), re.I)
_SCRIPT_OR_TAG = re.compile(rb"<script\b.*?</script>|<style\b.*?</style>|<[^>]*>|&\w+;|\s+", re.S | re.I)
_WAF_PAGE = 20_000  # bytes; a block page is short, and a report that quotes these words is not
ADVICE = ("the portal answers crawlers with a JavaScript challenge or a block page that nianbao does not pass; "
          "ask the site's webmaster to allow the crawler's User-Agent or address, or crawl from a network the "
          "portal admits, and leave the portal out of scheduled crawls until then")


@dataclass(frozen=True)
class Block:
    service: str  # what answered: "加速乐 (JSL) cookie challenge", "瑞数 (Rivers Security) challenge", …
    status: int

    def __str__(self) -> str:
        return f"{self.service} (HTTP {self.status})"


def recognise_block(status: int, body: bytes, set_cookies: list[bytes] | tuple[bytes, ...] = ()) -> Block | None:
    """The challenge or block a response is, or None when it is (as far as can be told) the page itself."""
    cookies = b"\n".join(set_cookies)
    if (status == 521 and (_JSL_SCRIPT.search(body) or _JSL_COOKIE.search(cookies))) or (
            _JSL_COOKIE.search(body) and _JSL_SCRIPT.search(body) and len(body) < _WAF_PAGE):
        return Block("加速乐 (JSL) JavaScript cookie challenge", status)
    ruishu = _RUISHU.search(body) or _RUISHU_META.search(body)
    if ruishu and (status in (202, 412) or _little_text(body)):
        return Block("瑞数 (Rivers Security) JavaScript challenge", status)
    if len(body) < _WAF_PAGE and _WAF_WORDS.search(body):
        return Block("WAF block page", status)
    return None


def _little_text(body: bytes) -> bool:
    """Next to no text outside scripts and tags: a challenge, not a page (瑞数 also adds its script to the real
    pages of a site it guards, after the challenge is passed)."""
    return len(_SCRIPT_OR_TAG.sub(b"", body[:200_000])) < 300


class BlockedResponse(IgnoreRequest):
    """A challenge or block page instead of the page asked for: recorded by the spider (stage `blocked`), never
    parsed. An IgnoreRequest, so Scrapy hands it to the errback without a traceback."""

    def __init__(self, block: Block) -> None:
        super().__init__(f"{block}: {ADVICE}")
        self.block = block


class ChallengeMiddleware:
    """Sees each response after the archive (605) and BrokenResponsesMiddleware (604), before Redirect (600),
    Retry (550) and the spider: a challenge becomes a BlockedResponse, so it is never retried, followed or
    parsed."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ChallengeMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        block = recognise_block(response.status, response.body, response.headers.getlist("Set-Cookie"))
        if block is not None:
            raise BlockedResponse(block)
        return response
