# aiohttp peer for loadtest/db/run.sh: one indexed SELECT of a random row
# as JSON, on asyncio.
#   python3 aiohttp_db.py PORT pg URL        asyncpg pool of 10
#   python3 aiohttp_db.py PORT sqlite PATH   aiosqlite (one connection, its thread)
import random
import sys

from aiohttp import web

port, kind, target = int(sys.argv[1]), sys.argv[2], sys.argv[3]


async def open_pg(app):
    import asyncpg
    app["pool"] = await asyncpg.create_pool(target, min_size=10, max_size=10)


async def item_pg(request):
    row = await request.app["pool"].fetchrow(
        "SELECT id, name, value FROM bench_items WHERE id = $1", random.randint(1, 10000))
    return web.json_response(dict(row))


async def open_sqlite(app):
    import aiosqlite
    app["db"] = await aiosqlite.connect(target)


async def close_sqlite(app):
    await app["db"].close()  # else its thread keeps the process alive


async def item_sqlite(request):
    async with request.app["db"].execute(
            "SELECT id, name, value FROM bench_items WHERE id = ?", (random.randint(1, 10000),)) as cur:
        row = await cur.fetchone()
    return web.json_response({"id": row[0], "name": row[1], "value": row[2]})


app = web.Application()
if kind == "pg":
    app.on_startup.append(open_pg)
    app.router.add_get("/", item_pg)
else:
    app.on_startup.append(open_sqlite)
    app.on_cleanup.append(close_sqlite)
    app.router.add_get("/", item_sqlite)
web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
