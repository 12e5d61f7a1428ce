"""The web UI under its strict Content-Security-Policy: every page works and the browser reports zero violations."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, expect

from inkstream.api.security_headers import STRICT_CSP
from tests.e2e.browser import App
from tests.support.server import LiveServer

pytestmark = pytest.mark.e2e

# Collected before the app runs, in every page of the context.
LISTEN = ("window.__csp = [];"
          "document.addEventListener('securitypolicyviolation', e => window.__csp.push("
          "`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));")


def _listen(context: BrowserContext) -> None:
    context.add_init_script(LISTEN)


def _violations(app: App) -> list[str]:
    from_console = [line for line in app.seen.console if "Content Security Policy" in line]
    return [*app.page.evaluate("window.__csp"), *from_console]


def test_the_whole_ui_runs_under_the_strict_csp_with_zero_violations(
    browser: Browser, live: LiveServer, tmp_path: Path
) -> None:
    app = App(browser, live, before=_listen)
    with app.page.expect_response(re.compile(r"/$|index\.html$")) as first:
        page = app.goto("#/")
    assert first.value.headers["content-security-policy"] == STRICT_CSP
    page.wait_for_url(re.compile(r"#/login$"))
    page.click("[data-test=tab-register]")
    page.fill("input[name=username]", f"csp_{uuid.uuid4().hex[:6]}")
    page.fill("input[name=password]", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-test=topic]")
    ref = tmp_path / "ref.png"
    Image.new("RGB", (40, 50), (200, 220, 250)).save(ref)
    page.set_input_files("[data-test=ref-input]", str(ref))
    expect(page.locator("figure.thumb img")).to_have_count(1)  # a data: URL preview
    page.fill("[data-test=topic]", "秋天的第一杯奶茶")
    page.click("[data-test=create-outline]")
    page.wait_for_selector("[data-test=outline-list] li")
    page.click("[data-test=generate]")
    page.wait_for_url(re.compile(r"#/task/[0-9a-f]{32}$"))
    app.wait_finished()
    # The progress bar is sized through the CSSOM (allowed), not a style attribute (blocked).
    assert page.evaluate("document.querySelector('.progress-fill').style.width") == "100%"
    assert page.evaluate("getComputedStyle(document.querySelector('.progress-fill')).width") != "0px"
    # Images load from the API, the lightbox opens, stylesheet rules apply.
    page.wait_for_function("() => [...document.querySelectorAll('figure.page-card img')]"
                           ".every(i => i.complete && i.naturalWidth === 540)")  # the WebP previews
    page.locator("figure.page-card button.shot").first.click()
    expect(page.locator(".lightbox")).to_be_visible()
    assert page.evaluate("getComputedStyle(document.querySelector('.lightbox')).position") == "fixed"
    page.keyboard.press("Escape")
    with page.expect_download():
        page.click("[data-test=download-all]")  # a blob: URL
    page.click("nav a[href='#/history']")
    expect(page.locator("article.history-item")).to_have_count(2)
    page.click("[data-test=lang]")
    expect(page.locator("h1")).to_have_text("My posts")
    assert not app.seen.errors
    assert _violations(app) == []
    app.close()


def test_the_policy_is_enforced_and_the_listener_sees_it(browser: Browser, live: LiveServer) -> None:
    """The zero above means something: an inline script and a style attribute are blocked and reported."""
    app = App(browser, live, before=_listen)
    page = app.goto("#/login")
    page.wait_for_selector("[data-test=tab-register]")
    page.evaluate("""() => {
        const s = document.createElement('script'); s.textContent = 'window.__ran = true'; document.head.append(s);
        document.body.insertAdjacentHTML('beforeend', '<div id="styled" style="color: rgb(255, 0, 0)">x</div>');
    }""")
    page.wait_for_function("() => window.__csp.length >= 2")
    assert page.evaluate("window.__ran") is None
    assert page.evaluate("getComputedStyle(document.getElementById('styled')).color") != "rgb(255, 0, 0)"
    found = " ".join(_violations(app))
    assert "script-src" in found and "style-src" in found
    app.close()
