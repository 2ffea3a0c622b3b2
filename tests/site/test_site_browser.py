"""The built site in a real browser: headless Chromium (Debian's chromium and
chromium-driver packages) driven by Selenium, both installed by
scripts/browser-setup.sh, which this module runs first. The test skips, with the
installer's reason, only when the browser cannot be installed on this machine.

The site is served from 127.0.0.1 by a local HTTP server (search loads its index
with fetch, which file:// URLs do not allow); nothing else is reachable from it.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO / "scripts" / "browser-setup.sh"


@pytest.fixture(scope="module")
def browser():
    proc = subprocess.run(["bash", str(SETUP), sys.executable], capture_output=True, text=True, timeout=900)
    if proc.returncode == 3:
        pytest.skip(f"headless Chromium cannot be installed here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1600", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def served(built_site):
    """The built site over HTTP on a free loopback port: (base URL, out dir)."""
    _, out, *_ = built_site

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", out
    server.shutdown()
    server.server_close()


def wait_for(driver, script: str, timeout: float = 40.0):
    """Poll a JavaScript expression until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = driver.execute_script(f"return ({script});")
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def severe_console_messages(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def shadow_svg_count(driver) -> int:
    """SVG elements inside the Mermaid containers. mkdocs-material renders each diagram
    into a *closed* shadow root, which page scripts cannot see into; the DevTools DOM
    can (pierce=True)."""
    root = driver.execute_cdp_cmd("DOM.getDocument", {"depth": -1, "pierce": True})["root"]

    def walk(node, inside: bool) -> int:
        attrs = node.get("attributes", [])
        is_mermaid = node.get("nodeName") == "DIV" and "class" in attrs[::2] and "mermaid" in attrs[attrs.index("class") + 1].split()
        count = 1 if inside and node.get("nodeName", "").lower() == "svg" else 0
        for child in node.get("children", []) + node.get("shadowRoots", []):
            count += walk(child, inside or is_mermaid)
        return count

    return walk(root, False)


def test_term_page_renders_math_and_diagram(browser, served):
    base, _ = served
    browser.get_log("browser")  # drop anything from before
    browser.get(base + "terms/lstm/")
    rendered = wait_for(browser, "document.querySelectorAll('div.arithmatex mjx-container[jax=\"CHTML\"] mjx-math').length")
    assert rendered and rendered >= 6, "MathJax did not typeset the equations"
    # MathJax drew glyphs: the characters' CSS is in place and the math has a size.
    assert wait_for(browser, "getComputedStyle(document.querySelector('mjx-c'), '::before').content !== 'none'")
    assert browser.execute_script("return document.querySelector('mjx-container').getBoundingClientRect().width") > 20
    deadline = time.monotonic() + 40
    while shadow_svg_count(browser) == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert shadow_svg_count(browser) >= 1, "Mermaid did not draw the diagram"
    assert not browser.execute_script("return document.querySelector('pre.mermaid') !== null"), "a diagram was left unrendered"
    assert severe_console_messages(browser) == []


def test_search_finds_lstm(browser, served):
    base, _ = served
    browser.get(base)
    from selenium.webdriver.common.by import By

    wait_for(browser, "document.querySelector('input.md-search__input') !== null")
    browser.execute_script("document.querySelector('label.md-header__button[for=__search]') && document.querySelector('label.md-header__button[for=__search]').click()")
    box = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    browser.execute_script("arguments[0].focus()", box)
    deadline = time.monotonic() + 40
    hits = []
    while time.monotonic() < deadline:  # the search index loads in a worker; retype until it answers
        box.clear()
        box.send_keys("LSTM")
        time.sleep(1.0)
        hits = browser.execute_script(
            "return Array.from(document.querySelectorAll('.md-search-result__item a')).map(a => a.href)"
        )
        if hits:
            break
    assert any("/terms/lstm/" in h for h in hits), hits[:10]
    assert severe_console_messages(browser) == []


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag in ("script", "img") and attrs.get("src"):
            self.links.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.links.append(attrs["href"])


def test_internal_links_resolve(served):
    """Every same-site link and asset of every page exists, anchors included."""
    base, out = served
    pages = {p: p.read_text(encoding="utf-8") for p in out.rglob("*.html")}
    parsed = {}
    for path, text in pages.items():
        parser = _Links()
        parser.feed(text)
        parsed[path.resolve()] = parser
    broken = []
    for path, parser in parsed.items():
        page_url = "/" + path.relative_to(out.resolve()).as_posix()
        for link in parser.links:
            parts = urlsplit(urljoin(page_url, link))
            if parts.scheme or parts.netloc:
                continue  # outside the site (the test for network loads is in test_site_build)
            target = out / unquote(parts.path).lstrip("/")
            if target.is_dir() or parts.path.endswith("/"):
                target = target / "index.html"
            if not target.exists():
                broken.append((page_url, link))
                continue
            if parts.fragment and target.suffix == ".html":
                ids = parsed[target.resolve()].ids
                if unquote(parts.fragment) not in ids:
                    broken.append((page_url, link))
    assert not broken, broken[:20]


def test_pages_load_without_console_errors(browser, served):
    base, _ = served
    for page in ("", "terms/", "terms/gru/", "papers/", "sparql/", "ontology/", "people/", "downloads/"):
        browser.get_log("browser")
        browser.get(base + page)
        wait_for(browser, "document.readyState === 'complete'")
        time.sleep(0.5)
        assert severe_console_messages(browser) == [], page
