"""Signing in to harden's dashboard and out again, for dashboard.py's sign-in checks.

Signing in is GitHub's OAuth web flow through the dashboard: URL's `login` redirects to the
forge's authorize page, which sends the browser back to URL's `oauth/callback`, which sets
the session cookie and redirects to the index; `logout` clears the cookie. This module
follows those redirects and judges the cookie; what the page must show, and the checks
themselves, stay in dashboard.py. Each function answers with a list of problems, empty when
there is none, and never with the cookie's value, which is a credential.
"""
import time
from urllib.parse import urljoin

SESSION = "harden_session"
# What keeps the session out of scripts' reach and off cross-site requests.
SESSION_FLAGS = {"httpOnly": True, "sameSite": "Lax", "path": "/"}
COOKIE_NAMES_JS = "return document.cookie.split('; ').map(c => c.split('=')[0]);"


def back_on_index(b, url, path, timeout=10.0):
    """Opens `path` (relative to URL) and waits for its redirects to end on the loaded index."""
    b.open(urljoin(url, path))
    index = urljoin(url, ".")
    deadline = time.monotonic() + timeout
    while (at := b.url()).split("#")[0] not in (index, index + "index.html") or (
            b.script("return document.readyState;") != "complete"):
        if time.monotonic() > deadline:
            return [f"opening {path}: after {timeout:.0f} s the browser is at {at}, not back on {index}"]
        time.sleep(0.1)
    return []


def session_problems(b):
    """What is wrong with the session cookie of a browser that has just signed in."""
    cookies = {c["name"]: c for c in b.cookies()}
    if SESSION not in cookies:
        return [f"no cookie {SESSION} after sign-in (cookies: {', '.join(cookies) or 'none'})"]
    problems = [f"{SESSION} has {key} {cookies[SESSION].get(key)!r}, want {want!r}"
                for key, want in SESSION_FLAGS.items() if cookies[SESSION].get(key) != want]
    # chromedriver reports Chromium's default, Lax, for a cookie sent without SameSite (other
    # browsers default to None); the DevTools list has only the SameSite the server sent.
    sent = b.cdp("Network.getCookies", {"urls": [b.url()]})["cookies"]
    if cookies[SESSION].get("sameSite") == "Lax" and not any(
            c["name"] == SESSION and c.get("sameSite") == "Lax" for c in sent):
        problems.append(f"{SESSION} is set without a SameSite attribute; want SameSite=Lax")
    if SESSION in b.script(COOKIE_NAMES_JS):
        problems.append(f"{SESSION} is readable from document.cookie")
    return problems


def signed_out_problems(b):
    """What is wrong after `logout`: the session cookie must be gone."""
    return [f"{SESSION} is still set after logout"] if any(c["name"] == SESSION for c in b.cookies()) else []
