"""Drive headless Chromium over the DevTools protocol against examples/chat:
two pages (alice and bob); alice types a line and presses Enter, and the
line must appear on bob's page.  For tests/e2e/chat_browser_test.sh.

    /usr/bin/python3 tests/e2e/chat_browser.py DEVTOOLS_PORT APP_URL [SCREENSHOT.png]

Uses Debian's python3-websockets for the protocol's WebSocket.  Every wait
is bounded; exits 1 with a message on failure.
"""
import asyncio
import base64
import itertools
import json
import sys
import urllib.request

import websockets

LIMIT = 15  # seconds for any one wait


class Page:
    """One tab, spoken to over its DevTools WebSocket."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method, **params):
        n = next(self.ids)
        await self.ws.send(json.dumps({"id": n, "method": method, "params": params}))
        while True:
            reply = json.loads(await asyncio.wait_for(self.ws.recv(), LIMIT))
            if reply.get("id") == n:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    async def eval(self, expression):
        r = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return r["result"].get("value")

    async def wait_for(self, expression, what):
        for _ in range(LIMIT * 10):
            if await self.eval(expression):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}")


async def open_page(devtools, url):
    req = urllib.request.Request(f"http://127.0.0.1:{devtools}/json/new?{url}", method="PUT")
    with urllib.request.urlopen(req, timeout=LIMIT) as r:
        target = json.loads(r.read())
    ws = await websockets.connect(target["webSocketDebuggerUrl"], max_size=None)
    return Page(ws)


async def main(devtools, app, shot):
    alice = await open_page(devtools, f"{app}/?name=alice")
    bob = await open_page(devtools, f"{app}/?name=bob")
    for page, who in ((alice, "alice"), (bob, "bob")):
        await page.wait_for("document.body && document.body.dataset.connected === 'yes'", f"{who}'s WebSocket")
    await bob.wait_for("document.getElementById('log').innerText.includes('bob joined')", "bob's own join note")

    # alice types into the box and presses Enter, as a person would
    await alice.eval("document.getElementById('text').focus()")
    await alice.call("Input.insertText", text="hello from alice ✓")
    for kind in ("keyDown", "keyUp"):
        await alice.call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter",
                         windowsVirtualKeyCode=13, nativeVirtualKeyCode=13, text="\r" if kind == "keyDown" else "")
    await bob.wait_for("document.getElementById('log').innerText.includes('alice: hello from alice ✓')",
                       "alice's message on bob's page")
    await alice.wait_for("document.getElementById('log').innerText.includes('alice: hello from alice ✓')",
                         "alice's message on her own page")
    if await alice.eval("document.getElementById('text').value") != "":
        raise RuntimeError("the input box was not cleared after sending")
    if shot:
        png = await bob.call("Page.captureScreenshot", format="png")
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png["data"]))
    await alice.ws.close()
    await bob.ws.close()


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
    except Exception as e:  # noqa: BLE001 -- any failure fails the test, with its reason
        print(f"FAIL: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
