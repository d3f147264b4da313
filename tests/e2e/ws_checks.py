"""WebSocket checks against tests/e2e/apps/ws.q, for tests/e2e/ws_test.sh.

    /usr/bin/python3 tests/e2e/ws_checks.py PORT CHECK...

Each CHECK is a function below; the run stops at the first failure with a
message on stderr and exit status 1.  Uses Debian's python3-websockets
(10.x, the asyncio "legacy" client).  Every wait is bounded.
"""
import asyncio
import json
import socket
import sys
import urllib.request

import websockets

PORT = 0
LIMIT = 10  # seconds any single wait may take


def url(path):
    return f"ws://127.0.0.1:{PORT}{path}"


class CheckFailed(Exception):
    pass


def expect(what, got, wanted):
    if got != wanted:
        raise CheckFailed(f"{what}: got {got!r}, expected {wanted!r}")


async def recv(ws):
    return await asyncio.wait_for(ws.recv(), LIMIT)


async def closed_code(ws):
    """Read until the server closes; the close code it sent."""
    try:
        while True:
            await recv(ws)
    except websockets.ConnectionClosed as e:
        return e.code, e.reason


def post(path, body=b""):
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=LIMIT) as r:
        return r.read().decode()


# ---- checks ---------------------------------------------------------------------------


async def echo():
    async with websockets.connect(url("/echo")) as ws:
        for text in ["hello", "héllo wörld ✓", "", "x" * 90_000]:
            await ws.send(text)
            expect("text echo", await recv(ws), text)
        for data in [b"\x00\x01\x02\xff", b"", bytes(range(256)) * 300]:
            await ws.send(data)
            expect("binary echo", await recv(ws), data)


async def last_chars():
    async with websockets.connect(url("/last")) as ws:
        for text in ["hello", "héllo wörld ✓", "x" * 1000 + "yz", "abcdefg\u00e9" * 100, "é" * 40_000 + "ü"]:
            await ws.send(text)
            expect("last character of a text message", await recv(ws), text[-1])
        await ws.send(["frag", "mented ✓"])  # (reassembled by wslay)
        expect("last character of a fragmented message", await recv(ws), "✓")


async def fragmented():
    async with websockets.connect(url("/echo")) as ws:
        await ws.send(["frag", "mented ", "text ✓"])
        expect("fragmented text", await recv(ws), "fragmented text ✓")
        await ws.send([b"\x01\x02", b"", b"\x03" * 70_000])
        expect("fragmented binary", await recv(ws), b"\x01\x02" + b"\x03" * 70_000)


async def oversize():
    # the server runs with QUEST_WS_MAX_MESSAGE_SIZE=100000
    async with websockets.connect(url("/echo"), max_size=None) as ws:
        await ws.send("y" * 99_000)
        expect("under the limit", len(await recv(ws)), 99_000)
        await ws.send("y" * 150_000)
        expect("over the limit", (await closed_code(ws))[0], 1009)
    async with websockets.connect(url("/echo")) as ws:
        await ws.send(["a" * 60_000, "b" * 60_000])  # only the whole message is over
        expect("fragmented, over the limit", (await closed_code(ws))[0], 1009)


async def close_codes():
    async with websockets.connect(url("/echo")) as ws:
        await ws.send("x")
        await recv(ws)
        await ws.close(4001, "client bye")  # the app logs the code it saw
        expect("client close code", ws.close_code, 4001)
    async with websockets.connect(url("/bye")) as ws:
        await ws.send("x")
        expect("server close code", await closed_code(ws), (4002, "server bye"))
    async with websockets.connect(url("/done")) as ws:
        expect("message before the close", await recv(ws), "done")
        expect("handler returned", (await closed_code(ws))[0], 1000)
    async with websockets.connect(url("/boom")) as ws:
        await ws.send("x")
        expect("handler raised", (await closed_code(ws))[0], 1011)


async def handshake():
    async with websockets.connect(url("/info?a=1&b=two")) as ws:
        info = await recv(ws)
        for part in ['"path":"/info"', '"query":{"a":"1","b":"two"}', '"same":true']:
            if part not in info:
                raise CheckFailed(f"ws.path/request: {info}")
    async with websockets.connect(url("/protocol"), subprotocols=["chat.v1", "chat.v2"]) as ws:
        expect("negotiated subprotocol", ws.subprotocol, "chat.v2")
        expect("ws.protocol", await recv(ws), "chat.v2")
    async with websockets.connect(url("/protocol"), subprotocols=["other"]) as ws:
        expect("no common subprotocol", ws.subprotocol, None)
        expect("ws.protocol without one", await recv(ws), "none")
    async with websockets.connect(url("/guarded"), origin="http://good.example") as ws:
        await ws.send("ok")
        expect("allowed origin", await recv(ws), "ok")
    try:
        async with websockets.connect(url("/guarded"), origin="http://evil.example"):
            raise CheckFailed("a foreign origin was let in")
    except websockets.InvalidStatusCode as e:
        expect("foreign origin", e.status_code, 403)
    async with websockets.connect(url("/somewhere/else")) as ws:
        expect("handle_websocket fallback", await recv(ws), "fallback /somewhere/else")
    expect("plain HTTP beside WebSockets", post("/plain"), "plain http /plain")


async def patterns():
    async def hello(path):
        async with websockets.connect(url(path)) as ws:
            return json.loads(await recv(ws))

    expect("pattern", await hello("/rooms/blue/7?x=1"),
           {"route": "room", "params": {"room": "blue", "n": 7}, "same": True})
    expect("more specific pattern", await hello("/rooms/lobby/3"), {"route": "lobby", "params": {"n": 3}})
    expect("percent-decoded capture", (await hello("/rooms/a%20b/1"))["params"]["room"], "a b")
    expect("path capture", await hello("/files/a/b.txt"), {"route": "files", "params": {"rest": "a/b.txt"}})
    for path in ["/rooms/blue/seven", "/rooms/blue", "/rooms/blue/7/extra"]:
        async with websockets.connect(url(path)) as ws:
            expect(f"no pattern matches {path}", await recv(ws), f"fallback {path}")
    async with websockets.connect(url("/echo")) as ws:  # exact paths still answer
        await ws.send("exact")
        expect("exact route beside patterns", await recv(ws), "exact")
    async with websockets.connect(url("/info")) as ws:
        expect("params of an exact route", json.loads(await recv(ws))["params"], {})


async def select():
    async with websockets.connect(url("/select")) as ws:
        await ws.send("first")
        expect("select: socket", await recv(ws), "ws:first")
        expect("select: channel", await recv(ws), "ch:tick")


async def subscribe(path, n):
    socks, workers = [], set()
    for _ in range(n):
        ws = await websockets.connect(url(path))
        hello = await recv(ws)
        if not hello.startswith("subscribed "):
            raise CheckFailed(f"subscribe: {hello}")
        workers.add(int(hello.split()[1]) % 2)  # ws.id says the worker
        socks.append(ws)
    return socks, workers


async def pubsub():
    socks, workers = await subscribe("/sub?topic=news", 12)
    if workers != {0, 1}:
        raise CheckFailed(f"12 connections all landed on worker(s) {workers}; cannot test across workers")
    others, _ = await subscribe("/sub?topic=sport", 2)
    expect("publish over HTTP", post("/publish?topic=news", b"extra extra"), "published")
    for ws in socks:
        expect("published message", await recv(ws), "extra extra")
    post("/publish_json?topic=news")
    for ws in socks:
        expect("published JSON", json.loads(await recv(ws)), {"n": 1, "from": "json"})
    await socks[0].send("leave")
    expect("unsubscribed", await recv(socks[0]), "left")
    post("/publish?topic=news", b"second")
    for ws in socks[1:]:
        expect("second message", await recv(ws), "second")
    for ws in others + socks[:1]:  # other topic, or unsubscribed: nothing came
        try:
            got = await asyncio.wait_for(ws.recv(), 0.3)
            raise CheckFailed(f"a message reached a non-subscriber: {got!r}")
        except asyncio.TimeoutError:
            pass
    for ws in socks + others:
        await ws.close()
    # closed sockets were unsubscribed: publishing to them is harmless
    expect("publish after close", post("/publish?topic=news", b"nobody"), "published")


async def slow_handler():
    # the server runs with QUEST_WS_MAX_RECV_QUEUE=16; /deaf never reads
    async with websockets.connect(url("/deaf")) as ws:
        for i in range(100):
            try:
                await ws.send(f"message {i}")
            except websockets.ConnectionClosed:
                break
        expect("unread messages", (await closed_code(ws))[0], 1008)


async def slow_reader():
    # /flood sends 64 KiB messages; this client reads nothing for a while
    async with websockets.connect(url("/flood"), max_queue=1, read_limit=2**16) as ws:
        await asyncio.sleep(1.5)
        expect("slow reader", (await closed_code(ws))[0], 1008)


async def slow_readers():
    """Many slow readers at once (the script watches the server's RSS)."""
    socks = [await websockets.connect(url("/flood"), max_queue=1, read_limit=2**16) for _ in range(20)]
    await asyncio.sleep(2)
    for ws in socks:
        ws.transport.abort()


async def abrupt():
    """Clients that vanish mid-conversation: in the middle of sends, of a
    flood, of a fragmented message, of a subscription, of the handshake."""
    for i in range(30):
        ws = await websockets.connect(url(["/echo", "/flood", "/sub?topic=gone", "/select"][i % 4]))
        if i % 4 == 0:
            for _ in range(5):
                await ws.send("x" * 1000)
        elif i % 4 == 1:
            await asyncio.sleep(0.05)
        ws.transport.abort()
    for _ in range(10):  # half a fragmented message, then gone
        s = socket.create_connection(("127.0.0.1", PORT), timeout=LIMIT)
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        s.recv(4096)
        s.sendall(bytes([0x01, 0x85, 1, 2, 3, 4]) + bytes(b ^ k for b, k in zip(b"hello", b"\x01\x02\x03\x04\x01")))
        s.close()
    for _ in range(10):  # a handshake cut short
        s = socket.create_connection(("127.0.0.1", PORT), timeout=LIMIT)
        s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
        s.close()
    post("/publish?topic=gone", b"anyone?")
    await asyncio.sleep(0.3)
    await echo()  # still serving


def raw_connect(path="/echo"):
    """A plain socket past the handshake, for frames no library would send."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=LIMIT)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    if not head.startswith(b"HTTP/1.1 101"):
        raise CheckFailed(f"handshake: {head!r}")
    return s


def frame(opcode, payload, fin=True, rsv=0, masked=True):
    """A client frame: FIN, RSV, opcode; the payload masked with a fixed key."""
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    n = len(payload)
    bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + n.to_bytes(8, "big")
    if not masked:
        return head + payload
    key = b"\x37\xfa\x21\x3d"
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_frame(s):
    """The next server frame as (opcode, payload)."""
    def exactly(n):
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                raise CheckFailed("the server hung up before a whole frame")
            data += chunk
        return data
    b0, b1 = exactly(2)
    n = b1 & 127
    if n == 126:
        n = int.from_bytes(exactly(2), "big")
    elif n == 127:
        n = int.from_bytes(exactly(8), "big")
    return b0 & 15, exactly(n)


def close_code_of(payload):
    return int.from_bytes(payload[:2], "big")


async def raw_frames():
    """Frames as they come off the wire: several in one segment, one split
    byte by byte, control frames inside a fragmented message, and frames
    that break the protocol (refused with 1007 and 1002)."""
    s = raw_connect()
    s.sendall(frame(1, b"one") + frame(2, b"\x00two") + frame(1, "thr\u00e9e \u2713".encode()))
    expect("three frames in one segment", [read_frame(s) for _ in range(3)],
           [(1, b"one"), (2, b"\x00two"), (1, "thr\u00e9e \u2713".encode())])
    for b in frame(1, "split \u00e9".encode() * 40):  # one byte per segment
        s.sendall(bytes([b]))
    expect("a frame split byte by byte", read_frame(s), (1, "split \u00e9".encode() * 40))
    s.sendall(frame(1, b"frag", fin=False) + frame(9, b"are you there") + frame(0, b"mented", fin=False) +
              frame(10, b"unasked pong") + frame(0, b" text"))
    expect("pong inside a fragmented message", read_frame(s), (10, b"are you there"))
    expect("the fragments put together", read_frame(s), (1, b"fragmented text"))
    s.sendall(frame(1, b"after"))
    expect("a whole frame after a fragmented message", read_frame(s), (1, b"after"))
    s.close()
    refused = [("invalid UTF-8", frame(1, b"ok \xc3\x28"), 1007),
               ("a surrogate in UTF-8", frame(1, b"\xed\xa0\x80"), 1007),
               ("an unmasked frame", frame(1, b"plain", masked=False), 1002),
               ("an RSV bit", frame(1, b"x", rsv=2), 1002),
               ("a continuation with nothing to continue", frame(0, b"x"), 1002),
               ("a text frame inside a fragmented message", frame(1, b"a", fin=False) + frame(1, b"b"), 1002)]
    for what, bad, code in refused:
        s = raw_connect()
        s.sendall(frame(1, b"fine"))
        expect(f"the frame before {what}", read_frame(s), (1, b"fine"))
        s.sendall(bad)
        op, payload = read_frame(s)
        expect(f"{what}: close", (op, close_code_of(payload)), (8, code))
        s.close()


async def no_pong():
    """A raw client that never answers pings (QUEST_WS_PING_INTERVAL=0.3):
    it gets pings, then the server hangs up."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=LIMIT)
    s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    data = b""
    s.settimeout(5)
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    if b"\x89\x05quest" not in data:
        raise CheckFailed(f"no ping frame before the hang-up: {data[-40:]!r}")


async def pong():
    """A client that answers pings stays connected across several intervals."""
    async with websockets.connect(url("/echo")) as ws:
        await asyncio.sleep(1.5)
        await ws.send("still here")
        expect("after pings", await recv(ws), "still here")


async def idle():
    """QUEST_WS_IDLE_TIMEOUT=0.5: a silent client is closed with 1001."""
    async with websockets.connect(url("/echo")) as ws:
        await asyncio.sleep(0.2)
        await ws.send("x")
        await recv(ws)
        expect("idle timeout", await closed_code(ws), (1001, "idle timeout"))


async def shutdown():
    """Held open until SIGTERM: prints the close code it gets."""
    async with websockets.connect(url("/echo")) as ws:
        print("connected", flush=True)
        code, reason = await asyncio.wait_for(closed_code(ws), 30)
        print(f"closed {code} {reason}", flush=True)


def main():
    global PORT
    PORT = int(sys.argv[1])
    for name in sys.argv[2:]:
        try:
            asyncio.run(globals()[name]())
        except Exception as e:  # noqa: BLE001 -- report any failure with its check
            print(f"FAIL {name}: {type(e).__name__}: {e}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
