#!/usr/bin/env python3
"""Browser checks for harden's web dashboard, in Debian's headless Chromium via chromedriver.

The dashboard is where people decide whether to trust what harden proposed: it must show what
the store holds and nothing it must hide, and stay usable with assistive technology, in a dark
theme and on a phone. This drives a real browser (webdriver.py) and checks the page at URL,
loaded afresh in a light 1280x900 window for each check, against the dashboard's DOM contract:

- rows: the `table#pulls tbody tr[data-repo]` rows, with `data-state` (one of STATES) and
  `data-saved` (bytes, an integer), equal EXPECT's rows in any order; none is in its hidden;
- filter: `select#state-filter` has the options "" and every state; choosing each state of
  EXPECT leaves visible exactly the rows of that `data-state`, and "" shows all again;
- search: typing a repository's name into `input#search` leaves visible only the rows whose
  repo contains it (case-insensitive); emptying it shows all again;
- sort: the header's `button[data-sort="saved"]` orders the visible rows by `data-saved`,
  descending after one click, ascending after a second;
- colours: body's background is light (relative luminance > 0.8), and dark (< 0.2) under an
  emulated `prefers-color-scheme: dark`; saves DIR/light.png and DIR/dark.png;
- accessibility: axe-core finds no serious or critical violation, in light and in dark;
- phone: at 390x844 the page does not scroll sideways; saves DIR/phone.png.

With --signed-in SIGNED_IN.json (EXPECT's shape), then GitHub sign-in (signin.py), each afresh:
- sign-in: opening `login` (relative to URL) runs the OAuth web flow, whose redirects end on
  the index (URL or its index.html) within 10 s; the rows then equal SIGNED_IN's (with the
  private repositories of the user's organisations), none of its hidden; the cookie
  `harden_session` is httpOnly, SameSite=Lax (set, not Chromium's default), on path /, and
  absent from document.cookie;
- accessibility, signed in: axe-core finds no serious or critical violation there;
- sign-out: opening `logout` ends on the index, without `harden_session`, with EXPECT's rows.

Usage: dashboard.py --url URL --expect EXPECT.json --shots DIR [--signed-in SIGNED_IN.json]
                    [--axe AXE_MIN_JS] [--chromedriver /usr/bin/chromedriver] [--chromium /usr/bin/chromium]
EXPECT.json: {"rows": [{"repo": "acme/api", "state": "open", "saved": 123}], "hidden": ["acme/secret"]}
tests/browser/setup.sh installs Chromium, chromedriver and axe-core and prints the path of
axe.min.js (the default of --axe). One line per check; exit 0 when all pass, 1 when one fails,
2 when the arguments are wrong or the browser cannot be started.
"""
import argparse
import json
import signal
import sys
import time
from collections import Counter
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ left beside the tests in the work tree
import signin  # noqa: E402
from webdriver import BACKSPACE, OPENER, Browser, WebDriverError  # noqa: E402

STATES = ("scheduled", "open", "merged", "closed", "failed-proof", "blocked-human-edit", "ignored", "opted-out")
DEFAULT_AXE = Path.home() / ".cache/harden/axe-core/package/axe.min.js"
# checkVisibility also counts `visibility: hidden | collapse` as hidden, not only `display: none`.
ROWS_JS = """return Array.from(document.querySelectorAll('#pulls tbody tr[data-repo]'), r => ({
  repo: r.dataset.repo, state: r.dataset.state, saved: r.dataset.saved,
  visible: r.checkVisibility({visibilityProperty: true})}));"""
# A canvas turns any CSS colour syntax (rgb, hex, oklch, ...) into sRGB bytes.
BODY_COLOUR_JS = """const css = getComputedStyle(document.body).backgroundColor;
const ctx = document.createElement('canvas').getContext('2d');
ctx.fillStyle = css;
ctx.fillRect(0, 0, 1, 1);
return [css, Array.from(ctx.getImageData(0, 0, 1, 1).data)];"""
AXE_RUN_JS = """const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => ({
  id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
  target: v.nodes.length ? v.nodes[0].target.join(' ') : ''}))), e => done({error: String(e)}));"""


class CheckFailed(Exception):
    """What the page did, against what the contract says (one problem a line)."""


def fail_if(problems):
    if problems:
        raise CheckFailed("\n".join(problems))


def visible(b, key="repo"):
    """The visible rows' `key` values, in page order."""
    return [row[key] for row in b.script(ROWS_JS) if row["visible"]]


def settle(read, want, timeout=2.0):
    """read() until it returns want (the page may debounce or render late); the last value."""
    deadline, got = time.monotonic() + timeout, read()
    while got != want and time.monotonic() < deadline:
        time.sleep(0.05)
        got = read()
    return got


def color_scheme(b, value):
    """Emulates `prefers-color-scheme`; it stays across page loads until changed."""
    b.cdp("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": value}]})


def row_problems(rows, expect):
    """How the page's rows differ from expect's rows and hidden (one problem an item)."""
    problems = [f"{r['repo']}: data-state {r['state']!r} is not a state" for r in rows if r["state"] not in STATES]
    problems += [f"{r['repo']}: data-saved {r['saved']!r} is not an integer"
                 for r in rows if not str(r["saved"]).isdigit()]
    shown = Counter((r["repo"], r["state"], str(r["saved"])) for r in rows)
    want = Counter((r["repo"], r["state"], str(r["saved"])) for r in expect.rows)
    problems += [f"missing {repo} ({state}, {saved} bytes)" for repo, state, saved in want - shown]
    problems += [f"unexpected {repo} ({state}, {saved} bytes)" for repo, state, saved in shown - want]
    return problems + [f"{r['repo']} is shown but must be hidden" for r in rows if r["repo"] in expect.hidden]


def check_rows(b, ctx):
    rows = b.script(ROWS_JS)
    fail_if(row_problems(rows, ctx))
    return f"{len(rows)} rows as expected, none of the {len(ctx.hidden)} hidden repositories"


def check_filter(b, ctx):
    options = b.script("return Array.from(document.querySelectorAll('#state-filter option'), o => o.value);")
    if not options:
        raise CheckFailed("no select#state-filter with options")
    lacking = [repr(v) for v in ("",) + STATES if v not in options]
    if lacking:
        raise CheckFailed(f"select#state-filter has no option {', '.join(lacking)}")
    rows = b.script(ROWS_JS)
    states = [s for s in STATES if any(r["state"] == s for r in ctx.rows)]
    problems = []
    for state in states + [""]:
        b.click(b.find(f'#state-filter option[value="{state}"]'))
        want = sorted(r["repo"] for r in rows if r["state"] == state or not state)
        got = settle(lambda: sorted(visible(b)), want)
        if got != want:
            problems.append(f"{state!r} shows {got}, expected {want}")
    fail_if(problems)
    return f"each of {', '.join(states)} shows only its rows; '' shows all {len(rows)}"


def check_search(b, ctx):
    repos = sorted(r["repo"] for r in b.script(ROWS_JS))
    if not repos:
        raise CheckFailed("the table has no rows to search")
    names = [repo.split("/", 1)[-1] for repo in repos]
    # A name that leaves some rows out, so that a search box doing nothing cannot pass.
    term = next((n for n in names if any(n.lower() not in r.lower() for r in repos)), names[0])
    box = b.find("#search")
    b.type(box, term)
    want = [r for r in repos if term.lower() in r.lower()]
    got = settle(lambda: sorted(visible(b)), want)
    if got != want:
        raise CheckFailed(f"{term!r} shows {got}, expected {want}")
    b.type(box, BACKSPACE * len(term))
    got = settle(lambda: sorted(visible(b)), repos)
    if got != repos:
        raise CheckFailed(f"emptying the search shows {got}, expected all of {repos}")
    return f"{term!r} leaves {len(want)} of {len(repos)} rows; emptying it shows all"


def check_sort(b, ctx):
    saved = [r["saved"] for r in b.script(ROWS_JS)]
    if not all(s.isdigit() for s in saved):
        raise CheckFailed(f"cannot sort by data-saved {saved}: not all integers")
    button = b.find('#pulls thead button[data-sort="saved"]')
    ascending = sorted(saved, key=int)
    for order, want in (("descending", ascending[::-1]), ("ascending", ascending)):
        b.click(button)
        got = settle(lambda: visible(b, "saved"), want)
        if got != want:
            raise CheckFailed(f"expected data-saved {order} {want}, the page shows {got}")
    return "data-saved descending after one click, ascending after two"


def luminance(rgb):
    """WCAG 2 relative luminance of an sRGB colour given as 0-255 bytes."""
    def linear(c):
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c / 255) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def check_colours(b, ctx):
    problems, seen = [], []
    for scheme in ("light", "dark"):
        color_scheme(b, scheme)
        css, (red, green, blue, alpha) = b.script(BODY_COLOUR_JS)
        b.screenshot(ctx.shots / f"{scheme}.png")
        lum = luminance((red, green, blue))
        good, bound = (lum > 0.8, "> 0.8") if scheme == "light" else (lum < 0.2, "< 0.2")
        seen.append(f"{scheme} {css} (luminance {lum:.2f})")
        if alpha == 0:
            problems.append(f"{scheme}: body's background is transparent ({css}); give it a colour")
        elif not good:
            problems.append(f"{scheme}: body's background {css} has luminance {lum:.2f}, want {bound}")
    fail_if(problems)
    return ", ".join(seen)


def check_axe(b, ctx, scheme):
    color_scheme(b, scheme)
    b.script(ctx.axe_source)
    found = b.async_script(AXE_RUN_JS)
    if isinstance(found, dict):
        raise CheckFailed(f"axe.run failed: {found['error']}")
    bad = [f"{v['id']} ({v['impact']}): {v['help']} - {v['target']} ({v['nodes']} elements)"
           for v in found if v["impact"] in ("serious", "critical")]
    if bad:
        raise CheckFailed("\n".join([f"{len(bad)} serious or critical violations"] + bad))
    minor = ", ".join(f"{v['id']} ({v['impact']})" for v in found)
    return "no serious or critical violation" + (f"; also {minor}" if minor else "")


def check_phone(b, ctx):
    b.window(390, 844)
    inner, scroll = b.script("return [innerWidth, document.documentElement.scrollWidth];")
    b.screenshot(ctx.shots / "phone.png")
    if inner > 400:
        raise CheckFailed(f"the window could not be made 390 px wide (innerWidth {inner})")
    if scroll > inner + 1:
        raise CheckFailed(f"the page is {scroll} px wide in a {inner} px viewport: it scrolls sideways")
    return f"{scroll} px of content in a {inner} px viewport"


def check_sign_in(b, ctx):
    fail_if(signin.back_on_index(b, ctx.url, "login"))
    rows = b.script(ROWS_JS)
    fail_if(row_problems(rows, ctx.signed_in) + signin.session_problems(b))
    return (f"back on the index with {len(rows)} rows as expected, none of the {len(ctx.signed_in.hidden)} "
            f"hidden; {signin.SESSION} httpOnly, SameSite=Lax, path /, not in document.cookie")


def check_axe_signed_in(b, ctx):
    fail_if(signin.back_on_index(b, ctx.url, "login"))
    return check_axe(b, ctx, "light")


def check_sign_out(b, ctx):
    fail_if(signin.back_on_index(b, ctx.url, "login"))
    fail_if(signin.back_on_index(b, ctx.url, "logout"))
    fail_if(row_problems(b.script(ROWS_JS), ctx) + signin.signed_out_problems(b))
    return f"back on the index with the {len(ctx.rows)} signed-out rows; {signin.SESSION} cleared"


CHECKS = (
    ("rows", check_rows),
    ("filter", check_filter),
    ("search", check_search),
    ("sort", check_sort),
    ("colours", check_colours),
    ("accessibility, light", lambda b, ctx: check_axe(b, ctx, "light")),
    ("accessibility, dark", lambda b, ctx: check_axe(b, ctx, "dark")),
    ("phone", check_phone),
)
SIGN_IN_CHECKS = (
    ("sign-in", check_sign_in),
    ("accessibility, signed in", check_axe_signed_in),
    ("sign-out", check_sign_out),
)


def run_checks(b, ctx):
    """Runs every check from the same start, printing a line each; the exit code."""
    failed = 0
    for name, check in CHECKS + (SIGN_IN_CHECKS if ctx.signed_in else ()):
        try:
            b.window(1280, 900)
            color_scheme(b, "light")
            b.open(ctx.url)
            print(f"ok   {name}: {check(b, ctx)}", flush=True)
        except (CheckFailed, WebDriverError) as e:
            failed += 1
            print(f"FAIL {name}: " + str(e).replace("\n", "\n     "), flush=True)
    return 1 if failed else 0


def load_context(args):
    """The arguments, read and checked; raises ValueError saying what is wrong."""
    for path, what in ((args.chromedriver, "chromedriver"), (args.chromium, "Chromium"), (args.axe, "axe.min.js")):
        if not Path(path).is_file():
            raise ValueError(f"{what} not found at {path}; run tests/browser/setup.sh")
    try:  # Chromium would show its own error page, and some checks would pass on it.
        OPENER.open(args.url, timeout=10).close()
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot load {args.url}: {e}") from None
    expect = load_expect(args.expect)
    shots = Path(args.shots)
    shots.mkdir(parents=True, exist_ok=True)
    return argparse.Namespace(url=args.url, rows=expect.rows, hidden=expect.hidden, shots=shots,
                              axe_source=Path(args.axe).read_text(),
                              signed_in=load_expect(args.signed_in) if args.signed_in else None)


def load_expect(path):
    """An EXPECT.json's rows and set of hidden repositories; raises ValueError when malformed."""
    expect = json.loads(Path(path).read_text())
    rows, hidden = expect.get("rows"), expect.get("hidden", [])
    if not (isinstance(rows, list) and isinstance(hidden, list) and all(
            isinstance(r, dict) and isinstance(r.get("repo"), str) and r.get("state") in STATES
            and isinstance(r.get("saved"), int) and r["saved"] >= 0 for r in rows)):
        raise ValueError(f'{path}: want {{"rows": [{{"repo": "owner/name", "state": one of '
                         f'{", ".join(STATES)}, "saved": bytes}}], "hidden": ["owner/name"]}}')
    return argparse.Namespace(rows=rows, hidden=set(hidden))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--expect", required=True, help="EXPECT.json: the rows the page must show")
    parser.add_argument("--shots", required=True, help="directory for light/dark/phone.png")
    parser.add_argument("--signed-in", help="SIGNED_IN.json: the rows once signed in; adds the sign-in checks")
    parser.add_argument("--axe", default=str(DEFAULT_AXE), help="axe-core's axe.min.js")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    try:
        ctx = load_context(args)
    except (OSError, ValueError) as e:
        print(f"dashboard.py: {e}", file=sys.stderr)
        return 2
    # A CI timeout's SIGTERM unwinds through the `finally` below instead of orphaning Chromium.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        b = Browser(args.chromedriver, args.chromium)
    except (OSError, WebDriverError) as e:
        print(f"dashboard.py: cannot start Chromium through {args.chromedriver}: {e}", file=sys.stderr)
        return 2
    try:
        return run_checks(b, ctx)
    finally:
        b.close()


if __name__ == "__main__":
    sys.exit(main())
