"""A minimal W3C WebDriver client for headless Chromium, over urllib (no Selenium).

It starts chromedriver on a free loopback port, opens one session and ends both on close(); it
knows nothing about any page. WebDriver is plain JSON over HTTP: every command is a method and
a path under /session/{id}, and every answer is {"value": ...}.
"""
import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
BACKSPACE = "\ue003"
# chromedriver is on loopback: never through a proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]


class WebDriverError(Exception):
    """chromedriver's error answer (W3C error and first line of the message), or its silence."""


class Browser:
    """One Chromium session on a chromedriver of its own; close() ends both."""

    def __init__(self, chromedriver, chromium):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base, self.session = f"http://127.0.0.1:{port}", None
        # A process group of its own, so that close() also ends any Chromium the driver leaves.
        self.driver = subprocess.Popen([chromedriver, f"--port={port}"], start_new_session=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self._wait_ready()
            caps = {"browserName": "chrome", "goog:chromeOptions": {"binary": chromium, "args": FLAGS},
                    "timeouts": {"script": 60000, "pageLoad": 30000}}
            self.session = self.call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]
        except BaseException:
            self.close()
            raise

    def _wait_ready(self):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.driver.poll() is not None:
                raise WebDriverError(f"chromedriver exited with code {self.driver.returncode}")
            try:
                if self.call("GET", "/status").get("ready"):
                    return
            except WebDriverError:
                time.sleep(0.1)
        raise WebDriverError("chromedriver did not answer within 15 s")

    def call(self, method, path, body=None):
        """One WebDriver command at `path` (from the server's root); its answer's value."""
        data = json.dumps(body or {}).encode() if method == "POST" else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with OPENER.open(request, timeout=120) as answer:
                return json.load(answer)["value"]
        except urllib.error.HTTPError as e:
            value = json.load(e).get("value", {})
            error, message = value.get("error", e.code), str(value.get("message", "")).split("\n", 1)[0]
            raise WebDriverError(message if message.startswith(str(error)) else f"{error}: {message}") from None
        except OSError as e:
            raise WebDriverError(f"chromedriver does not answer: {e}") from None

    def cmd(self, method, path, body=None):
        """One command of this session (`path` under /session/{id})."""
        return self.call(method, f"/session/{self.session}{path}", body)

    def open(self, url):
        self.cmd("POST", "/url", {"url": url})

    def url(self):
        """The address of the page the browser is on now (after any redirect)."""
        return self.cmd("GET", "/url")

    def cookies(self):
        """The cookies of the current page's site, as WebDriver dicts (name, path, httpOnly, sameSite...)."""
        return self.cmd("GET", "/cookie")

    def script(self, js, *args):
        return self.cmd("POST", "/execute/sync", {"script": js, "args": list(args)})

    def async_script(self, js, *args):
        """Runs js, whose last argument is the callback that gives its result."""
        return self.cmd("POST", "/execute/async", {"script": js, "args": list(args)})

    def find(self, css):
        return self.cmd("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def click(self, element):
        self.cmd("POST", f"/element/{element}/click")

    def type(self, element, text):
        self.cmd("POST", f"/element/{element}/value", {"text": text})

    def window(self, width, height):
        self.cmd("POST", "/window/rect", {"width": width, "height": height})

    def screenshot(self, path):
        path.write_bytes(base64.b64decode(self.cmd("GET", "/screenshot")))

    def cdp(self, command, params):
        """A Chrome DevTools Protocol command, through chromedriver's own endpoint."""
        return self.cmd("POST", "/goog/cdp/execute", {"cmd": command, "params": params})

    def close(self):
        if self.session:
            with contextlib.suppress(WebDriverError):  # Chromium may be gone already
                self.cmd("DELETE", "")
        try:
            os.killpg(self.driver.pid, signal.SIGTERM)
            self.driver.wait(10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.driver.pid, signal.SIGKILL)
            self.driver.wait()
