"""Headless Chromium driven over the DevTools protocol, for tests that look at a page as a person would.

Chromium talks over a pipe (`--remote-debugging-pipe`: it reads commands on fd 3 and writes
replies and events on fd 4, each a JSON message ended by a NUL byte), so no port, no
websocket library and no timer is involved: every step waits for the reply or the event
it needs (the page's load event), with one overall deadline against a hung browser.
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

CHROMIUM = Path("/usr/bin/chromium")
DEADLINE = 120.0  # seconds for one page: load, measure, screenshot


@dataclass
class Page:
    """What a person would notice about one loaded page."""

    text: str  # document.body.innerText: what is visible as text
    facts: dict[str, Any]  # measurements taken by `MEASURE`
    console: list[str] = field(default_factory=list)  # console errors, exceptions, failed loads


# Measured in the page after its load event. Figures are <img> (with alt text) or inline
# <svg role="img"> (named by aria-label or a <title>); a decoded image has a natural width.
MEASURE = """(() => {
  const images = [...document.images].map(i => ({src: i.src.slice(0, 40), alt: i.alt, loaded: i.complete && i.naturalWidth > 0,
                                                 width: i.getBoundingClientRect().width}));
  const svgs = [...document.querySelectorAll('svg[role="img"]')].map(s => ({
    name: s.getAttribute('aria-label') || (s.querySelector('title') || {}).textContent || '',
    width: s.getBoundingClientRect().width}));
  const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 5).map(e => e.tagName + '.' + e.className);
  // what sticks out of the page's white column (wider than the body, though not the window)
  const edge = document.body.getBoundingClientRect().right;
  const spills = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > edge + 1)
    .slice(0, 5).map(e => e.tagName + '.' + e.className);
  // a flagged source line that takes two lines on screen although it is short: a wrap the page caused
  const wrapped = [...document.querySelectorAll('tr.hit td.src')].filter(td =>
    td.textContent.length < 60 && td.getBoundingClientRect().height > 1.6 * parseFloat(getComputedStyle(td).lineHeight)).length;
  const badge = document.querySelector('.score-side .badge');
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          height: document.documentElement.scrollHeight, images, svgs, wide, spills, wrapped,
          title: document.title, scripts: document.scripts.length,
          badge: badge ? {text: badge.textContent.trim(), background: getComputedStyle(badge).backgroundColor} : null};
})()"""


class Chromium:
    """One headless browser; `open` loads a page, measures it and saves a full-page screenshot."""

    def __init__(self, profile: Path) -> None:
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def wire_fds() -> None:  # in the child: the protocol's fixed descriptors 3 and 4
            os.dup2(to_browser_read, 3)
            os.dup2(from_browser_write, 4)

        command = [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        # A private HOME keeps Chromium's crash and config files out of the real one.
        env = {**os.environ, "HOME": str(profile)}
        self._process = subprocess.Popen(
            command,
            env=env,
            pass_fds=(3, 4),
            preexec_fn=wire_fds,  # noqa: PLW1509
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []

    def close(self) -> None:
        try:
            self._send("Browser.close", {}, None, wait=False)
        except OSError:
            pass
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- protocol

    def _send(self, method: str, params: dict[str, Any], session: str | None, wait: bool = True) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        if not wait:
            return {}
        reply = self._until(lambda m: m.get("id") == self._next_id)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    def _until(self, wanted: Any) -> dict[str, Any]:
        """Read messages until one satisfies `wanted`; events seen on the way are kept."""
        deadline = time.monotonic() + DEADLINE
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "method" in message:
                    self._events.append(message)
                if wanted(message):
                    return dict(message)
            left = deadline - time.monotonic()
            if left <= 0 or self._process.poll() is not None:
                raise RuntimeError("Chromium stopped answering")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed its pipe")
                self._buffer += chunk

    # -- one page

    def open(self, page: Path, screenshot: Path, width: int = 1280, height: int = 900) -> Page:
        target = self._send("Target.createTarget", {"url": "about:blank"}, None)["targetId"]
        session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True}, None)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self._send(f"{domain}.enable", {}, session)
        self._send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session,
        )
        self._events.clear()
        self._send("Page.navigate", {"url": page.as_uri()}, session)
        self._until(lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == session)
        evaluated = self._send("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True}, session)
        facts = evaluated["result"]["value"]
        text = self._send(
            "Runtime.evaluate", {"expression": "document.body.innerText", "returnByValue": True}, session
        )["result"]["value"]
        shot = self._send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": min(int(facts["height"]), 16000), "scale": 1},
            },
            session,
        )
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        console = [_describe(e) for e in self._events if e.get("sessionId") == session and _is_error(e)]
        self._send("Target.closeTarget", {"targetId": target}, None)
        return Page(text=text, facts=facts, console=console)


def _is_error(event: dict[str, Any]) -> bool:
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        return True
    if method == "Runtime.consoleAPICalled":
        return bool(params.get("type") in ("error", "assert"))
    if method == "Log.entryAdded":
        return bool(params.get("entry", {}).get("level") == "error")
    return False


def _describe(event: dict[str, Any]) -> str:
    params = event.get("params", {})
    if "entry" in params:
        return f"{params['entry'].get('source')}: {params['entry'].get('text')}"
    if "exceptionDetails" in params:
        return str(params["exceptionDetails"].get("text"))
    return " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
