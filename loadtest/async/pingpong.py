# Two tasks pass N messages back and forth over two queues of capacity 1:
# messages per second.
import asyncio
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
rounds = n // 2


async def main():
    to_pong = asyncio.Queue(1)
    to_ping = asyncio.Queue(1)

    async def ping():
        for i in range(rounds):
            await to_pong.put(i)
            await to_ping.get()

    async def pong():
        for _ in range(rounds):
            v = await to_pong.get()
            await to_ping.put(v + 1)

    t0 = time.perf_counter()
    await asyncio.gather(pong(), ping())
    if n:
        print(n / (time.perf_counter() - t0))


asyncio.run(main())
