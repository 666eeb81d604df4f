"""A real headless browser for the report's print tests: Debian's ``chromium``, driven over the
DevTools protocol (a websocket, through tornado, which dask already installs).

:func:`print_layout` lays a page out as it prints (print media, at the width of a page's
printable area) and measures every table and its box in the page; :func:`print_pdf` prints it
with chromium's own ``--print-to-pdf``; :func:`in_page` runs scripts in a page on screen (the
report's interactive map). Tests skip when no chromium is installed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

MM = 96 / 25.4
"""CSS pixels per millimetre."""
PAPER_MM = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
"""Paper sizes (width, height), millimetres."""

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str | None:
    """The chromium executable, or None when none is installed."""
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return None


def print_pdf(page: Path, pdf: Path) -> bytes:
    """Print ``page`` to ``pdf`` with ``chromium --print-to-pdf`` and return the PDF's bytes."""
    executable = chromium()
    assert executable is not None
    # chromium's helper processes may still write to the profile as it is removed
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        subprocess.run(
            [executable, *FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer",
             f"--print-to-pdf={pdf}", page.as_uri()],
            check=True, capture_output=True, timeout=180,
        )  # fmt: skip
    return pdf.read_bytes()


def pdf_pages(data: bytes) -> list[tuple[float, float]]:
    """Each page's size (width, height) in points, from its MediaBox."""
    boxes = re.findall(rb"/Type\s*/Page\b(?!s).*?/MediaBox\s*\[([^\]]+)\]", data, flags=re.S)
    if not boxes:  # MediaBox before /Type
        boxes = re.findall(rb"/MediaBox\s*\[([^\]]+)\][^>]*?/Type\s*/Page\b(?!s)", data, re.S)
    sizes = []
    for box in boxes:
        x0, y0, x1, y1 = (float(v) for v in box.split())
        sizes.append((round(x1 - x0, 1), round(y1 - y0, 1)))
    return sizes


MEASURE = """
(() => {
  const page = document.documentElement.clientWidth;
  const tables = [];
  for (const table of document.querySelectorAll('table')) {
    const box = table.getBoundingClientRect();
    const holder = table.parentElement;
    const cells = [...table.querySelectorAll('th, td')];
    tables.push({
      section: (table.closest('section') || {}).id || '',
      left: box.left, right: box.right, width: box.width,
      holder_hidden: holder.scrollWidth - holder.clientWidth,
      cells_clipped: cells.filter(c => c.scrollWidth > c.clientWidth + 1).length,
      header_repeats: getComputedStyle(table.tHead || table).display === 'table-header-group',
      header: [...(table.tHead ? table.tHead.rows[0].cells : [])].map(c => c.textContent),
    });
  }
  const sections = [...document.querySelectorAll('section')].map(s => ({
    id: s.id, break_before: getComputedStyle(s).breakBefore}));
  const images = [...document.querySelectorAll('img')].map(i => i.getBoundingClientRect().right);
  return {page, scroll: document.documentElement.scrollWidth, tables, sections, images};
})()
"""


def in_page(
    page: Path,
    scripts: list[str],
    *,
    width: int = 1400,
    height: int = 1000,
    screenshot: Path | None = None,
) -> list[Any]:
    """Open ``page`` on screen (``width`` x ``height`` CSS pixels), run each of ``scripts`` in
    it in turn (awaiting promises) and return their values; with ``screenshot``, save a PNG
    of the viewport after the last one."""
    return asyncio.run(_session(page, width, height, "screen", scripts, screenshot))


def print_layout(page: Path, *, paper: str = "A4", margin_mm: float = 12.0) -> dict[str, Any]:
    """``page`` laid out for print on ``paper`` (print media, as wide as the paper less its
    left and right margins), measured in the page: each table's box and what it hides."""
    width = round((PAPER_MM[paper][0] - 2 * margin_mm) * MM)
    height = round((PAPER_MM[paper][1] - 2 * margin_mm) * MM)
    (layout,) = asyncio.run(_session(page, width, height, "print", [MEASURE], None))
    return layout


async def _session(
    page: Path, width: int, height: int, media: str, scripts: list[str], screenshot: Path | None
) -> list[Any]:
    from tornado.websocket import websocket_connect

    executable = chromium()
    assert executable is not None
    # chromium's helper processes may still write to the profile as it is removed
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        browser = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            port = _port(Path(profile) / "DevToolsActivePort", browser)
            url = _page_target(port)
            socket = await websocket_connect(url, max_message_size=64 * 2**20)
            calls = iter(range(1, 10**6))

            async def call(method: str, **params: Any) -> dict[str, Any]:
                number = next(calls)
                await socket.write_message(json.dumps({"id": number, "method": method,
                                                       "params": params}))  # fmt: skip
                while True:
                    message = await asyncio.wait_for(socket.read_message(), timeout=60)
                    assert message is not None, "chromium closed the connection"
                    reply = json.loads(message)
                    if reply.get("id") == number:
                        assert "error" not in reply, reply
                        return reply["result"]

            await call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                       deviceScaleFactor=1, mobile=False)  # fmt: skip
            await call("Emulation.setEmulatedMedia", media=media)
            await call("Page.navigate", url=page.as_uri())
            for _ in range(300):
                state = await call("Runtime.evaluate", expression="document.readyState")
                if state["result"]["value"] == "complete":
                    break
                await asyncio.sleep(0.1)
            values = []
            for script in scripts:
                result = await call("Runtime.evaluate", expression=script, returnByValue=True,
                                    awaitPromise=True)  # fmt: skip
                assert "exceptionDetails" not in result, result["exceptionDetails"]
                values.append(result["result"].get("value"))
            if screenshot is not None:
                shot = await call("Page.captureScreenshot", format="png")
                screenshot.write_bytes(base64.b64decode(shot["data"]))
            socket.close()
            while await asyncio.wait_for(socket.read_message(), timeout=30) is not None:
                pass  # until the connection is closed both ways
            return values
        finally:
            browser.terminate()
            browser.wait(timeout=30)


def _page_target(port: int) -> str:
    """The debugging URL of chromium's page, asked for again while a loaded machine's browser
    is still starting (its port open before it answers, or before the page is listed)."""
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=15) as r:
                targets = json.load(r)
            pages = [t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"]
            if pages:
                return pages[0]
        except OSError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise RuntimeError("chromium lists no page to measure")
        time.sleep(0.5)


def _port(path: Path, browser: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and (text := path.read_text().split()):
            return int(text[0])
        if browser.poll() is not None:
            raise RuntimeError(f"chromium exited ({browser.returncode})")
        time.sleep(0.1)
    raise TimeoutError("chromium did not open its DevTools port")
