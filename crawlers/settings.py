"""Scrapy settings of the govreports crawl: polite by default.

Every value can be overridden the Scrapy way (``scrapy crawl … -s NAME=VALUE``,
``govreports crawl --set NAME=VALUE``). Standard proxy variables (``http_proxy``,
``https_proxy``, ``no_proxy``) are honoured by Scrapy's HttpProxyMiddleware.
"""

from importlib.metadata import PackageNotFoundError, version

from crawlers.refusals import REPLACED
from pipelines.settings import current

_env = current()  # the GOVREPORTS_* environment (pipelines.settings)

try:
    _VERSION = version("govreports")
except PackageNotFoundError:  # running from a checkout that was never installed
    _VERSION = "0"

BOT_NAME = "govreports"
SPIDER_LOADER_CLASS = "crawlers.spiderloader.PortalSpiderLoader"
SPIDER_MODULES = ["crawlers.spider"]

#: Where people reach whoever runs the crawl; portals see it in every request.
CONTACT_URL = _env.contact_url
USER_AGENT = f"govreports/{_VERSION} (+{CONTACT_URL}; annual-report collection)"

# Politeness: robots.txt (with Crawl-delay, see crawlers.politeness), one connection and one
# request a second per host, AutoThrottle slowing down when a host slows down.
ROBOTSTXT_OBEY = True
# Across hosts; each host still gets one connection. Requests waiting out a host's delay count
# against this bound too, so it must exceed the number of hosts crawled at once or hosts starve
# (tests/bench/bench_crawl.py: 200 hosts reach 0.72 of the politeness bound at 64, 0.82 at 1024).
CONCURRENT_REQUESTS = 256
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0  # the delay is a floor between requests, not an average
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_AFTER_MAX = 300.0  # a Retry-After longer than this fails the URL for this run

# Limits.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
RETRY_TIMES = 3
REDIRECT_MAX_TIMES = 5
DNS_TIMEOUT = 20
TWISTED_DNS_RESOLVER = "crawlers.guards.GuardedResolver"

DOWNLOADER_MIDDLEWARES = {
    "crawlers.guards.AddressGuardMiddleware": 5,  # before anything can connect
    "crawlers.politeness.PolitenessMiddleware": 560,  # sees 429/503 before RetryMiddleware
    "crawlers.guards.AntiBotMiddleware": 585,  # after decompression (590), before retries
    # Scrapy's refusing middlewares, replaced by ones that refuse with a typed exception.
    **{scrapy_own: None for scrapy_own in REPLACED},
    **dict(REPLACED.values()),
}
ITEM_PIPELINES = {"crawlers.landing.Lander": 300}
#: The crawl's books (outcomes in crawler.stats, crawl state, run manifest); the portal spider
#: also adds it itself, see PortalSpider.update_settings.
EXTENSIONS = {"crawlers.manifest.CrawlManifestWriter": 0}

#: The lake the crawl lands in (a path or s3:// URL); default $GOVREPORTS_LAKE or ./lake.
GOVREPORTS_LAKE = _env.lake
#: The portal registry; default $GOVREPORTS_PORTALS or crawlers/portals.yaml.
GOVREPORTS_PORTALS = _env.portals or None

TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
