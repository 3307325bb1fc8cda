#!/usr/bin/env python3
"""The web desk (/desk) as its people use it, in headless Chromium.

A reporter files the Almaty wire copy, an editor sends it back and approves it, a publisher
publishes it; two editors save the same story at once; the history, a diff, comments; axe-core on
every kind of page, a keyboard-only sign-in, and a phone-sized screen. Each user has a browser of
their own (own cookies).

Run by scripts/browser, which starts a throwaway PostgreSQL and a server, makes the users and the
stories, and sets:
  WIREDESK_URL               the server, e.g. http://127.0.0.1:8080
  WIREDESK_PASSWORD_<NAME>   the passwords of rita (reporter), ed and eve (editors), pat (publisher)
  WIREDESK_SCREENSHOTS       where screenshots go (default: a temporary folder, printed)
  WIREDESK_CONFLICT_STORY    optional: the id of the draft the two editors save at once
  WIREDESK_CONFLICT_HEADLINE that draft's headline (default: the one scripts/browser gives it)
Exit status 0 when every step passed, 1 otherwise; a failing step leaves a screenshot and the page
source of every open browser in the screenshot folder.
"""
import base64
import os
import re
import sys
import tempfile
import time
import traceback

# Before selenium (and so its manager) is imported: no usage statistics, no network.
os.environ["SE_AVOID_STATS"] = "true"

from axe_selenium_python import Axe  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

BASE = os.environ.get("WIREDESK_URL", "").rstrip("/")
SHOTS = os.environ.get("WIREDESK_SCREENSHOTS") or tempfile.mkdtemp(prefix="wiredesk-screenshots.")
WAIT = 10  # seconds, for every explicit wait
PRESENCE_WAIT = 25  # the presence heartbeat is every 10 s; a second beat of slack
DESKTOP = (1280, 900)
PHONE = (390, 844)

HEADLINE = "Kazakh police detain protesters in Almaty"
STANDFIRST = "Russian paratroopers arrive as fresh violence breaks out in Kazakhstan's largest city."
STANDFIRST_FIXED = (
    "Russian paratroopers arrive as fresh violence breaks out in Almaty, Kazakhstan's largest city, "
    "and police say dozens of rioters were killed.")
SEND_BACK_REASON = "Say in the standfirst that police reported deaths, and name the city."
COMMENT = "Checked the casualty figures against the Interior Ministry statement."
CONFLICT_HEADLINE = os.environ.get("WIREDESK_CONFLICT_HEADLINE", "Shymkent council weighs fuel price relief")
ED_HEADLINE = "Shymkent council agrees fuel price relief"
EVE_HEADLINE = "Shymkent council delays fuel price relief vote"

# The transition buttons' labels (contract: story page, #transitions).
LABELS = {
    "submit": "Submit for review", "request_changes": "Send back", "approve": "Approve", "reopen": "Reopen",
    "publish": "Publish", "kill": "Kill", "spike": "Spike", "unspike": "Unspike",
}
STATES = {"draft": "Draft", "in_review": "In review", "approved": "Approved", "published": "Published"}


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def url(path):
    return BASE + path


# ---- Steps and failure artifacts ----

BROWSERS = {}  # label -> driver, every browser open
LAST = {"driver": None}  # the browser the test last acted in: the failing page
STEPS = []  # the steps begun; all but a failing last one passed
VIOLATIONS = []  # (page, violation) from axe


def step(name):
    STEPS.append(name)
    print(f"\n== {name}", flush=True)


def note(text):
    print(f"   {text}", flush=True)


def save_failure_artifacts():
    """A screenshot and the page source of every open browser, the failing one first."""
    drivers = list(BROWSERS.items())
    drivers.sort(key=lambda item: item[1] is not LAST["driver"])
    for label, driver in drivers:
        prefix = os.path.join(SHOTS, f"failure-{label}")
        try:
            marker = " (the failing page)" if driver is LAST["driver"] else ""
            print(f"   {label}'s browser{marker}: {driver.current_url} — {driver.title!r}", file=sys.stderr)
            driver.save_screenshot(prefix + ".png")
            with open(prefix + ".html", "w", encoding="utf-8") as f:
                f.write(driver.page_source)
            print(f"   saved {prefix}.png and {prefix}.html", file=sys.stderr)
        except WebDriverException as error:
            print(f"   could not save {label}'s page: {error.msg}", file=sys.stderr)


# ---- Browsers ----

def new_browser(label, size=DESKTOP):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", f"--window-size={size[0]},{size[1]}",
                     "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=en-US"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    driver.label = label
    BROWSERS[label] = driver
    LAST["driver"] = driver
    return driver


def wait(driver, timeout=WAIT):
    return WebDriverWait(driver, timeout, ignored_exceptions=[StaleElementReferenceException])


def find(driver, css, what, timeout=WAIT):
    """The element at `css`, waited for; a failure names what was expected and where."""
    LAST["driver"] = driver
    try:
        return wait(driver, timeout).until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))
    except TimeoutException:
        raise Failure(f"{driver.label}: expected {what} ({css}) on {driver.current_url}, not there after {timeout} s")


def text_of(driver, css, what):
    return find(driver, css, what).text.strip()


def go(driver, path):
    LAST["driver"] = driver
    driver.get(url(path))
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")


def click_and_wait(driver, element, what):
    """Clicks and waits until a new page has loaded (a form post and its redirect, a link)."""
    LAST["driver"] = driver
    old = driver.find_element(By.TAG_NAME, "html")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()
    try:
        wait(driver).until(EC.staleness_of(old))
        wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")
    except TimeoutException:
        invalid = driver.execute_script(
            "return Array.from(document.querySelectorAll(':invalid')).map(e => e.id || e.name).filter(Boolean)")
        raise Failure(f"{driver.label}: clicking {what} loaded no new page within {WAIT} s on {driver.current_url}"
                      + (f" (the browser holds back invalid fields: {invalid})" if invalid else ""))


def fill(driver, field_id, text):
    element = find(driver, f"#{field_id}", f"the field #{field_id}")
    element.clear()
    element.send_keys(text)
    check(element.get_attribute("value") == text,
          f"{driver.label}: #{field_id} holds {element.get_attribute('value')!r} after typing {text!r}")
    return element


def current_story_id(driver):
    match = re.search(r"/desk/stories/([0-9a-fA-F-]{36})", driver.current_url)
    check(match, f"{driver.label}: not on a story page: {driver.current_url}")
    return match.group(1).lower()


# ---- The desk's pages ----

def sign_in(driver, user, password, keyboard=False):
    """Signs in with the username form; with `keyboard`, by TAB, typing and ENTER only."""
    go(driver, "/desk/signin")
    find(driver, "#signin-form", "the sign-in form")
    if keyboard:
        keyboard_sign_in(driver, user, password)
    else:
        fill(driver, "username", user)
        fill(driver, "password", password)
        button = find(driver, "#signin-form button[type=submit]", "the Sign in button")
        check(button.text.strip() == "Sign in", f"the sign-in button says {button.text!r}, not 'Sign in'")
        click_and_wait(driver, button, "Sign in")
    errors = driver.find_elements(By.ID, "signin-error")
    check(not errors, f"{user} could not sign in: {errors[0].text if errors else ''!r}")
    if driver.current_url.rstrip("/").split("?")[0] != url("/desk"):
        shown = driver.find_element(By.TAG_NAME, "body").text.strip()[:200]
        raise Failure(f"after signing in {user} is at {driver.current_url}, not {url('/desk')}; the page says {shown!r}")
    who = text_of(driver, "header.top .who", "the signed-in user's name")
    check(who.startswith(f"{user} ("), f"the header says {who!r}, not '{user} (ROLE)'")
    note(f"{user} signed in ({who})")


def focus_style(driver, element):
    return driver.execute_script(
        "const s = getComputedStyle(arguments[0]);"
        "return {outline: s.outlineStyle, width: s.outlineWidth, shadow: s.boxShadow};", element)


def assert_focus_visible(driver, element, what):
    style = focus_style(driver, element)
    outlined = style["outline"] != "none" and style["width"] not in ("0px", "")
    shadowed = style["shadow"] not in ("none", "")
    check(outlined or shadowed, f"{what} shows no focus when reached by keyboard: {style}")
    check(element.is_displayed(), f"{what} has focus but is not visible")


def describe(element):
    return element.get_attribute("outerHTML")[:100]


def tab(driver):
    ActionChains(driver).send_keys(Keys.TAB).perform()
    return driver.switch_to.active_element


def keyboard_sign_in(driver, user, password):
    """TAB to the username, type, TAB to the password, type, TAB to Sign in, ENTER; every stop
    shows a focus outline."""
    driver.execute_script("if (document.activeElement) document.activeElement.blur(); window.scrollTo(0, 0);")
    stops = []
    for _ in range(20):
        element = tab(driver)
        stops.append(element.get_attribute("id") or element.tag_name)
        assert_focus_visible(driver, element, f"the focused element {describe(element)}")
        if element.get_attribute("id") == "username":
            break
    else:
        raise Failure(f"20 TABs never reached #username; focus went through {stops}")
    ActionChains(driver).send_keys(user).perform()
    element = tab(driver)
    check(element.get_attribute("id") == "password", f"TAB from #username went to {describe(element)}, not #password")
    assert_focus_visible(driver, element, "#password")
    ActionChains(driver).send_keys(password).perform()
    button = find(driver, "#signin-form button[type=submit]", "the Sign in button")
    for _ in range(3):
        element = tab(driver)
        assert_focus_visible(driver, element, f"the focused element {describe(element)}")
        if element == button:
            break
    else:
        raise Failure("TAB from #password did not reach the Sign in button within 3 stops")
    note(f"keyboard: {' → '.join(stops)} → password → Sign in, each with a visible focus style")
    old = driver.find_element(By.TAG_NAME, "html")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    try:
        wait(driver).until(EC.staleness_of(old))
    except TimeoutException:
        raise Failure("ENTER on the focused Sign in button did not submit the form")
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")


def check_session_cookie(driver, user):
    cookies = {c["name"]: c for c in driver.get_cookies()}
    session = cookies.get("wd_session")
    check(session, f"{user} is signed in but has no wd_session cookie: {sorted(cookies)}")
    check(session.get("httpOnly"), "wd_session is not HttpOnly")
    check(session.get("sameSite") == "Strict", f"wd_session is SameSite={session.get('sameSite')}, not Strict")
    check(session.get("path") == "/desk", f"wd_session has Path={session.get('path')}, not /desk")
    check("wd_session" not in driver.execute_script("return document.cookie"), "page scripts can read wd_session")
    note("wd_session: HttpOnly, SameSite=Strict, Path=/desk")


def sign_out(driver, user):
    button = find(driver, "#signout button[type=submit]", "the Sign out button")
    check(button.text.strip() == "Sign out", f"the sign-out button says {button.text!r}")
    click_and_wait(driver, button, "Sign out")
    go(driver, "/desk")
    check(driver.current_url.startswith(url("/desk/signin")),
          f"after {user} signed out, /desk went to {driver.current_url}, not the sign-in page")
    find(driver, "#signin-form", "the sign-in form after signing out")
    note(f"{user} signed out; /desk now goes to {driver.current_url}")


def open_queue(driver, tab_label, q=None):
    """The queue, on the tab `tab_label` (clicked in the tab bar), searched for `q`."""
    go(driver, "/desk")
    find(driver, "nav.tabs", "the state tabs")
    tabs = [a for a in driver.find_elements(By.CSS_SELECTOR, "nav.tabs a") if a.text.strip().startswith(tab_label)]
    check(tabs, f"no '{tab_label}' tab in {[a.text for a in driver.find_elements(By.CSS_SELECTOR, 'nav.tabs a')]}")
    if tabs[0].get_attribute("aria-current") != "page":
        click_and_wait(driver, tabs[0], f"the '{tab_label}' tab")
    current = [a.text.strip() for a in driver.find_elements(By.CSS_SELECTOR, 'nav.tabs a[aria-current="page"]')]
    check(len(current) == 1 and current[0].startswith(tab_label),
          f"after choosing '{tab_label}', the tab marked aria-current=page is {current}")
    if q is not None:
        fill(driver, "q", q)
        click_and_wait(driver, find(driver, "#queue-filters button[type=submit]", "the Apply button"), "Apply")
    find(driver, "#queue-results", "the queue results")


def story_links(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#queue-results a.story-link")


def open_story(driver, tab_label, story_id=None, q=None):
    """Opens a story from the queue: the one with `story_id`, else the first link. Returns its id."""
    open_queue(driver, tab_label, q)
    css = f'#queue-results a.story-link[href$="/desk/stories/{story_id}"]' if story_id else "#queue-results a.story-link"
    for attempt in range(3):
        try:
            link = wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, css)))
        except TimeoutException:
            shown = [a.text for a in story_links(driver)]
            raise Failure(f"{driver.label}: no story link {css} in the '{tab_label}' tab"
                          + (f" searched for {q!r}" if q else "") + f"; the queue shows {shown}")
        try:
            title = link.text.strip()
            click_and_wait(driver, link, f"the story link {title!r}")
            break
        except StaleElementReferenceException:  # the live refresh replaced the rows: find the link again
            if attempt == 2:
                raise
    find(driver, "#story-title", "the story's title")
    opened = current_story_id(driver)
    check(story_id is None or opened == story_id.lower(), f"opened story {opened}, not {story_id}")
    note(f"{driver.label} opened {title!r} ({opened}) from the '{tab_label}' tab")
    return opened


def open_story_page(driver, story_id):
    go(driver, f"/desk/stories/{story_id}")
    find(driver, "#story-title", "the story's title")


def expect_state(driver, label):
    state = text_of(driver, "#story-state", "the story's state")
    check(state == label, f"{driver.label}: the story is {state!r}, expected {label!r}")
    note(f"state: {state}")


def expect_title(driver, title):
    shown = text_of(driver, "#story-title", "the story's title")
    check(shown == title, f"{driver.label}: #story-title is {shown!r}, expected {title!r}")


def save(driver):
    """Clicks Save; returns 'saved', 'conflict' (#conflict) or 'error' (#form-error)."""
    button = find(driver, "#save", "the Save button")
    check(button.text.strip() == "Save", f"the save button says {button.text!r}, not 'Save'")
    click_and_wait(driver, button, "Save")
    if driver.find_elements(By.ID, "conflict"):
        return "conflict"
    if driver.find_elements(By.ID, "form-error"):
        note(f"save refused: {driver.find_element(By.ID, 'form-error').text!r}")
        return "error"
    return "saved"


def transition(driver, name, reason=None):
    """Takes the transition `name` with its form; returns None, or (message, rule) when refused."""
    css = f'#transitions form.transition[data-transition="{name}"]'
    forms = driver.find_elements(By.CSS_SELECTOR, css)
    offered = [f.get_attribute("data-transition") for f in driver.find_elements(By.CSS_SELECTOR, "form.transition")]
    check(forms, f"{driver.label}: no '{name}' transition on {driver.current_url}; offered: {offered}")
    button = forms[0].find_element(By.CSS_SELECTOR, "button")
    check(button.text.strip() == LABELS[name], f"the {name} button says {button.text!r}, not {LABELS[name]!r}")
    if reason is not None:
        fill(driver, f"reason-{name}", reason)
    click_and_wait(driver, button, f"'{LABELS[name]}'")
    errors = driver.find_elements(By.ID, "transition-error")
    if errors:
        rules = errors[0].find_elements(By.CSS_SELECTOR, ".rule")
        rule = rules[0].text.strip() if rules else ""
        check(rule, f"#transition-error has no .rule: {errors[0].text!r}")
        rule = re.sub(r"^Rule:\s*", "", rule)
        note(f"'{LABELS[name]}' refused: {errors[0].text!r} (rule {rule})")
        return errors[0].text.strip(), rule
    notices = driver.find_elements(By.ID, "notice")
    note(f"'{LABELS[name]}' done" + (f": {notices[0].text.strip()!r}" if notices else ""))
    return None


def take(driver, name, reason=None):
    refused = transition(driver, name, reason)
    check(refused is None, f"{driver.label}: '{LABELS[name]}' was refused: {refused}")


def check_csrf_fields(driver):
    token = find(driver, 'meta[name="csrf-token"]', "the csrf-token meta").get_attribute("content")
    check(token, "the csrf-token meta is empty")
    for form in driver.find_elements(By.CSS_SELECTOR, "form"):
        if (form.get_attribute("method") or "get").lower() != "post":
            continue
        fields = form.find_elements(By.CSS_SELECTOR, 'input[type="hidden"][name="csrf"]')
        check(fields and fields[0].get_attribute("value") == token,
              f"the form {form.get_attribute('id') or form.get_attribute('action')} has no hidden csrf of the session")


# ---- Accessibility, screenshots, phone width ----

def a11y(driver, page):
    """axe-core on the page as it is; every violation is printed and fails the run at the end."""
    LAST["driver"] = driver
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    violations = results["violations"]
    note(f"axe {results.get('testEngine', {}).get('version', '?')} on the {page}: {len(violations)} violations, "
         f"{len(results['passes'])} rules passed")
    for v in violations:
        targets = [" ".join(map(str, n["target"])) if isinstance(n["target"], list) else str(n["target"])
                   for n in v["nodes"][:3]]
        note(f"  VIOLATION {v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} nodes, e.g. {targets}")
        VIOLATIONS.append((page, v))


def screenshot(driver, name):
    """The whole page (beyond the viewport where the page is longer), as SHOTS/name."""
    path = os.path.join(SHOTS, name)
    try:
        size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    except WebDriverException:
        driver.save_screenshot(path)
    note(f"screenshot {path}")


def phone(driver, on):
    """A 390x844 phone screen (mobile viewport, so the viewport meta counts), or back to desktop."""
    if on:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True})
    else:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def check_no_horizontal_overflow(driver, page):
    width, inner = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    if width > inner + 1:
        wide = driver.execute_script(
            "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > "
            "window.innerWidth + 1).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + "
            "(e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : ''))")
        raise Failure(f"the {page} scrolls sideways at {inner} px wide: scrollWidth {width}; too wide: {wide}")
    note(f"the {page} fits {inner} px (scrollWidth {width})")


def assert_clickable(driver, element, what):
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    check(element.is_displayed() and element.is_enabled(), f"{what} is not visible or not enabled")
    # A link that wraps has a box per line: it is tappable when the middle of one of them is it.
    box = driver.execute_script(
        "const el = arguments[0], r = el.getBoundingClientRect();"
        "let hit = false, covering = null;"
        "for (const line of el.getClientRects()) {"
        "  const top = document.elementFromPoint(line.left + line.width / 2, line.top + line.height / 2);"
        "  if (top === el || el.contains(top)) { hit = true; break; }"
        "  covering = top ? top.outerHTML.slice(0, 80) : null;"
        "}"
        "return {left: r.left, right: r.right, width: r.width, height: r.height, inner: window.innerWidth,"
        " hit: hit, covering: covering};", element)
    check(box["width"] > 0 and box["height"] > 0, f"{what} has no size: {box}")
    check(box["left"] >= -1 and box["right"] <= box["inner"] + 1, f"{what} lies outside the screen: {box}")
    check(box["hit"], f"{what} is covered by {box['covering']}")


# ---- The story ----

def run():
    check(BASE, "set WIREDESK_URL to the server, e.g. http://127.0.0.1:8080")
    passwords = {}
    for user in ("rita", "ed", "pat", "eve"):
        passwords[user] = os.environ.get(f"WIREDESK_PASSWORD_{user.upper()}", "")
        check(passwords[user], f"set WIREDESK_PASSWORD_{user.upper()}")
    os.makedirs(SHOTS, exist_ok=True)
    print(f"desk flow against {BASE}; screenshots in {SHOTS}", flush=True)

    rita = new_browser("rita")
    ed = new_browser("ed")
    caps = rita.capabilities
    print(f"{caps.get('browserName')} {caps.get('browserVersion')}, chromedriver "
          f"{caps.get('chrome', {}).get('chromedriverVersion', '?').split(' ')[0]}", flush=True)

    # a. The reporter files the wire copy.
    step("a1. Not signed in: /desk goes to the sign-in page, which passes axe")
    go(rita, "/desk")
    check(rita.current_url.startswith(url("/desk/signin")), f"/desk without a session went to {rita.current_url}")
    go(rita, "/desk?state=in_review")
    check(rita.current_url.startswith(url("/desk/signin")) and "next=" in rita.current_url,
          f"/desk?state=in_review without a session went to {rita.current_url}, not /desk/signin?next=…")
    find(rita, "#signin-form", "the sign-in form")
    find(rita, "#token-form", "the API token sign-in form")
    a11y(rita, "sign-in page")

    step("a2. rita signs in with the keyboard only (TAB, typing, ENTER), focus always visible")
    sign_in(rita, "rita", passwords["rita"], keyboard=True)
    check_session_cookie(rita, "rita")

    step("a3. rita searches the Draft tab for 'Almaty' and opens the wire copy")
    open_queue(rita, "Draft", q="Almaty")
    links = story_links(rita)
    check(links, "searching Draft for 'Almaty' found nothing")
    first = links[0].text.strip()
    check(first.startswith("Untitled") and "almaty" in first.lower(),
          f"the wire copy has no headline, so its link should read 'Untitled — ALMATY …', not {first!r}")
    a11y(rita, "queue (Draft, searched)")
    story = open_story(rita, "Draft", q="Almaty")
    expect_state(rita, "Draft")
    check_csrf_fields(rita)
    a11y(rita, "story page (draft, reporter)")

    step("a4. rita writes the headline and standfirst and saves")
    fill(rita, "headline", HEADLINE)
    fill(rita, "standfirst", STANDFIRST)
    check(save(rita) == "saved", "rita's save was not accepted")
    expect_title(rita, HEADLINE)
    check(find(rita, "#standfirst", "the standfirst").get_attribute("value").strip() == STANDFIRST,
          "the saved standfirst is not what rita wrote")
    expect_state(rita, "Draft")

    step("a5. rita submits it for review")
    take(rita, "submit")
    expect_state(rita, "In review")

    # b. The editor sends it back.
    step("b1. ed signs in (own browser) and opens the story from the In review tab")
    sign_in(ed, "ed", passwords["ed"])
    check_session_cookie(ed, "ed")
    open_queue(ed, "In review")
    screenshot(ed, "queue-desktop.png")
    open_story(ed, "In review", story)
    expect_state(ed, "In review")
    screenshot(ed, "story-desktop.png")
    a11y(ed, "story page (in review, editor)")

    step("b2. A send-back without a reason is refused by the server (#transition-error names the rule)")
    reason_box = find(ed, "#reason-request_changes", "the send-back reason")
    check(reason_box.get_attribute("required") is not None, "the send-back reason is not marked required")
    ed.execute_script("arguments[0].removeAttribute('required')", reason_box)  # past the browser's own check
    refused = transition(ed, "request_changes")
    check(refused is not None, "ed sent the story back without a reason")
    check(refused[1].startswith("request_changes."), f"the refusal names rule {refused[1]!r}, not request_changes.*")
    open_story_page(ed, story)
    expect_state(ed, "In review")

    step("b3. ed sends it back with a reason")
    take(ed, "request_changes", SEND_BACK_REASON)
    expect_state(ed, "Draft")

    # c. The reporter fixes it.
    step("c. rita fixes the standfirst, saves and resubmits")
    open_story(rita, "Draft", story)
    expect_state(rita, "Draft")
    fill(rita, "standfirst", STANDFIRST_FIXED)
    check(save(rita) == "saved", "rita's second save was not accepted")
    expect_title(rita, HEADLINE)
    take(rita, "submit")
    expect_state(rita, "In review")

    step("c2. rita signs out: /desk then goes to the sign-in page")
    sign_out(rita, "rita")

    # d. The editor approves.
    step("d. ed approves (filling a missing credit first, should approval ask for one)")
    open_story(ed, "In review", story)
    refused = transition(ed, "approve")
    if refused is not None:
        check(refused[1] in ("approve.credit", "approve.picture-credit"),
              f"approval refused for something other than a credit: {refused}")
        note(f"approval asked for a credit ({refused[1]}): filling it in")
        open_story_page(ed, story)
        supply_credits(ed)
        check(save(ed) == "saved", "ed's save of the credits was not accepted")
        expect_state(ed, "In review")
        take(ed, "approve")
    expect_state(ed, "Approved")

    # e. The publisher publishes, in rita's browser after her sign-out.
    step("e. pat signs in (in rita's browser, after her sign-out) and publishes from the Approved tab")
    pat = BROWSERS.pop("rita")
    pat.label = "pat"
    BROWSERS["pat"] = pat
    sign_in(pat, "pat", passwords["pat"])
    open_story(pat, "Approved", story)
    expect_state(pat, "Approved")
    take(pat, "publish")
    expect_state(pat, "Published")
    expect_title(pat, HEADLINE)

    # f. Two editors save the same story.
    step("f1. ed and eve (own browsers) open the same draft; each sees the other in #presence")
    eve = new_browser("eve")
    sign_in(eve, "eve", passwords["eve"])
    conflict_id = os.environ.get("WIREDESK_CONFLICT_STORY") or None
    conflict = open_story(ed, "Draft", conflict_id, q=CONFLICT_HEADLINE.split()[0])
    open_story(eve, "Draft", conflict, q=CONFLICT_HEADLINE.split()[0])
    expect_title(eve, CONFLICT_HEADLINE)
    wait_presence(eve, "ed")
    wait_presence(ed, "eve")

    step("f2. ed saves a new headline; eve, still on the old version, saves another: a conflict")
    fill(eve, "headline", EVE_HEADLINE)
    fill(ed, "headline", ED_HEADLINE)
    check(save(ed) == "saved", "ed's save was not accepted")
    expect_title(ed, ED_HEADLINE)
    check(save(eve) == "conflict", "eve saved over ed's change without a #conflict")
    box = find(eve, "#conflict", "the conflict notice")
    check(box.get_attribute("role") == "alert", "#conflict is not role=alert")
    heading = box.find_element(By.TAG_NAME, "h2").text.strip()
    check(heading == "Someone else saved this story while you were editing", f"#conflict says {heading!r}")
    check("save again" in box.text, f"#conflict does not say how to go on (save again / reload): {box.text!r}")
    rows = [r.text for r in box.find_elements(By.CSS_SELECTOR, "table.changes tbody tr")] or \
           [r.text for r in box.find_elements(By.CSS_SELECTOR, "table.changes tr")][1:]
    headline_rows = [r for r in rows if "headline" in r.lower()]
    check(headline_rows, f"the conflict's changes do not list the headline: {rows}")
    check(ED_HEADLINE in headline_rows[0], f"the conflict's headline row does not show ed's headline: {headline_rows[0]!r}")
    kept = find(eve, "#headline", "the headline field").get_attribute("value")
    check(kept == EVE_HEADLINE, f"after the conflict eve's headline field holds {kept!r}, not what she typed")
    note(f"conflict lists: {headline_rows[0]!r}; eve's text is kept")
    screenshot(eve, "conflict-desktop.png")
    a11y(eve, "story page (conflict)")

    step("f3. eve saves again: her headline is the story's")
    check(save(eve) == "saved", "eve's second save was not accepted")
    check(not eve.find_elements(By.ID, "conflict"), "eve's second save conflicted again")
    expect_title(eve, EVE_HEADLINE)

    # g. History and a diff.
    step("g1. ed reads the Almaty story's history")
    open_story_page(ed, story)
    click_and_wait(ed, find(ed, "#history-link", "the History link"), "History")
    events = [e.text for e in find(ed, "#timeline", "the timeline").find_elements(By.CSS_SELECTOR, "li.event")]
    timeline = "\n".join(events).lower()
    for action, spellings in {
        "create": ("create", "import", "ingest"), "edit": ("edit",), "submit": ("submit",),
        "request_changes": ("request_changes", "request changes", "requested changes", "send back", "sent back"),
        "approve": ("approve",), "publish": ("publish",),
    }.items():
        check(any(s in timeline for s in spellings), f"the timeline shows no {action} event:\n{timeline}")
    check(len(events) >= 8, f"the timeline has {len(events)} events; expected at least 8 "
                            f"(create, edit, submit, send back, edit, submit, approve, publish):\n{timeline}")
    check(SEND_BACK_REASON.lower() in timeline, "the timeline does not show ed's send-back reason")
    note(f"{len(events)} events")
    a11y(ed, "history page")

    step("g2. ed compares the first and the last revision: the diff has a headline row")
    values = [o.get_attribute("value") for o in Select(find(ed, "#from", "From revision")).options]
    numbers = sorted(int(v) for v in values if v.strip().isdigit())
    check(len(numbers) >= 2, f"the story has revisions {numbers}; expected at least two")
    Select(find(ed, "#from", "From revision")).select_by_value(str(numbers[0]))
    Select(find(ed, "#to", "To revision")).select_by_value(str(numbers[-1]))
    click_and_wait(ed, find(ed, "#diff-form button[type=submit]", "the Compare button"), "Compare")
    table = find(ed, "table#diff", "the diff table")
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr") or table.find_elements(By.CSS_SELECTOR, "tr")[1:]
    headline_rows = [r for r in rows if r.find_elements(By.CSS_SELECTOR, "th, td")
                     and "headline" in r.find_elements(By.CSS_SELECTOR, "th, td")[0].text.lower()]
    check(headline_rows, f"the diff of revisions {numbers[0]} → {numbers[-1]} has no headline row: "
                         f"{[r.text[:60] for r in rows]}")
    new = headline_rows[0].find_elements(By.CSS_SELECTOR, "td.new")
    check(new and "Kazakh police" in new[0].text, f"the headline row's new cell does not show the headline: "
                                                  f"{headline_rows[0].text!r}")
    note(f"revisions {numbers[0]} → {numbers[-1]}: {len(rows)} changed fields")
    screenshot(ed, "diff-desktop.png")
    a11y(ed, "diff page")

    # h. Comments.
    step("h. ed comments on the story")
    open_story_page(ed, story)
    fill(ed, "comment", COMMENT)
    click_and_wait(ed, find(ed, "#comment-form button[type=submit]", "the Add comment button"), "Add comment")
    comments = ed.find_elements(By.CSS_SELECTOR, "#comments ol.comments li.comment")
    mine = [c for c in comments if COMMENT in c.text]
    check(mine, f"ed's comment is not in .comments: {[c.text for c in comments]}")
    authors = [a.text.strip() for a in mine[0].find_elements(By.CSS_SELECTOR, ".author")]
    check(authors and re.match(r"ed\b", authors[0]), f"ed's comment names its author as {authors}, not ed")
    note(f"comment: {mine[0].text!r}")
    a11y(ed, "story page (published, with a comment)")

    # j. Phone width.
    step("j. A 390x844 phone: the queue and the story page fit, links and buttons are tappable")
    phone(ed, True)
    try:
        open_queue(ed, "Draft")
        check_no_horizontal_overflow(ed, "queue")
        links = story_links(ed)
        check(links, "the Draft queue shows no story on the phone")
        assert_clickable(ed, links[0], "the first story link")
        screenshot(ed, "queue-phone.png")
        click_and_wait(ed, links[0], "the first story link")
        find(ed, "#story-title", "the story's title")
        check_no_horizontal_overflow(ed, "story page")
        buttons = ed.find_elements(By.CSS_SELECTOR, "#transitions form.transition button")
        check(buttons, f"ed sees no transition buttons on {ed.current_url}")
        for button in buttons:
            assert_clickable(ed, button, f"the '{button.text.strip()}' button")
        assert_clickable(ed, find(ed, "#save", "the Save button"), "the Save button")
        note(f"tappable: {[b.text.strip() for b in buttons]} and Save")
        ed.execute_script("window.scrollTo(0, 0)")
        screenshot(ed, "story-phone.png")
    finally:
        phone(ed, False)

    if VIOLATIONS:
        pages = sorted({page for page, _ in VIOLATIONS})
        raise Failure(f"axe found {len(VIOLATIONS)} violations on: {', '.join(pages)} (listed above)")


def supply_credits(driver):
    """The credits approval needs: a source or byline, and each picture's caption and creditline."""
    if not find(driver, "#source", "the source field").get_attribute("value").strip() and \
            not find(driver, "#bylines", "the bylines field").get_attribute("value").strip():
        fill(driver, "source", "Reuters")
    if driver.find_elements(By.ID, "creditline") and \
            not driver.find_element(By.ID, "creditline").get_attribute("value").strip():
        fill(driver, "creditline", "Reuters")
    for i in range(len(driver.find_elements(By.CSS_SELECTOR, "fieldset.picture"))):
        if not find(driver, f"#picture_{i}_caption", f"picture {i}'s caption").get_attribute("value").strip():
            fill(driver, f"picture_{i}_caption", "Demonstrators clash with law enforcement officers in Aktobe.")
        if not find(driver, f"#picture_{i}_creditline", f"picture {i}'s creditline").get_attribute("value").strip():
            fill(driver, f"picture_{i}_creditline", "Interior Ministry of Kazakhstan/ via REUTERS")


def wait_presence(driver, other):
    """Polls #presence (desk.js refreshes it every 10 s) until it names `other`."""
    deadline = time.time() + PRESENCE_WAIT
    names, text = [], ""
    while time.time() < deadline:
        try:
            names = [p.text.strip() for p in driver.find_elements(By.CSS_SELECTOR, "#presence .person")]
            text = driver.find_element(By.ID, "presence").text.strip()
        except StaleElementReferenceException:
            time.sleep(0.1)
            continue
        if other in names:
            note(f"{driver.label}'s #presence: {text!r}")
            return
        time.sleep(0.5)
    raise Failure(f"{driver.label}'s #presence did not name {other} within {PRESENCE_WAIT} s: {text!r}")


def main():
    failed = None
    try:
        run()
    except Failure as error:
        failed = str(error)
    except WebDriverException as error:  # the browser's own message, without chromedriver's native stack
        failed = f"{type(error).__name__}: {error.msg}\n{''.join(traceback.format_tb(error.__traceback__))}"
    except Exception as error:  # a bug here: still a failed run, with its page
        failed = f"{type(error).__name__}: {error}\n{traceback.format_exc()}"
    finally:
        if failed:
            print(f"\nFAILED in step {STEPS[-1] if STEPS else '(setup)'}:\n  {failed}", file=sys.stderr)
            save_failure_artifacts()
        for driver in BROWSERS.values():
            try:
                driver.quit()
            except Exception:
                pass
    steps = len(STEPS) - (1 if failed and STEPS else 0)
    print(f"\nscreenshots in {SHOTS}", flush=True)
    print(f"desk_flow: {steps} passed, {1 if failed else 0} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
