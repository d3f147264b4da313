# aiohttp peer for loadtest/http/run.sh: "/" answers the 13-byte text/plain
# body, "/json" a three-field dict serialized per request.
#   python3 aiohttp_app.py PORT [WORKERS]
# With WORKERS > 1 this process forks that many servers sharing the port
# (SO_REUSEPORT), as gunicorn would, and stops them on SIGTERM.
import os
import signal
import sys

from aiohttp import web


async def hello(request):
    return web.Response(text="Hello, World!")


async def hello_json(request):
    return web.json_response({"message": "Hello, World!", "id": 42, "ok": True})


def serve(port, reuse_port):
    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_get("/json", hello_json)
    web.run_app(app, host="127.0.0.1", port=port, reuse_port=reuse_port,
                access_log=None, print=None)


def supervise(port, workers):
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            serve(port, True)
            os._exit(0)
        children.append(pid)

    def stop(signum, frame):
        for pid in children:
            os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    for pid in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    port = int(sys.argv[1])
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if workers > 1:
        supervise(port, workers)
    else:
        serve(port, False)
