# Start N trivial tasks and await them: microseconds per task.
#   spawn_await.py seq [N]     start one, await it, then the next
#   spawn_await.py batch [N]   start all N, then await each
import asyncio
import sys
import time

mode = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000


async def trivial(i):
    return i + 1


async def one_at_a_time():
    total = 0
    for i in range(n):
        total += await asyncio.create_task(trivial(i))
    return total


async def all_then_await():
    tasks = [asyncio.create_task(trivial(i)) for i in range(n)]
    total = 0
    for t in tasks:
        total += await t
    return total


async def main():
    t0 = time.perf_counter()
    total = await (one_at_a_time() if mode == "seq" else all_then_await())
    t1 = time.perf_counter()
    assert total == n * (n + 1) // 2
    if n:
        print((t1 - t0) * 1e6 / n)


asyncio.run(main())
