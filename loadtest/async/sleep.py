# N tasks each sleeping 1 s at once (the runner measures wall time and
# peak RSS).
import asyncio
import sys

n = int(sys.argv[1])


async def sleeper():
    await asyncio.sleep(1)


async def main():
    tasks = [asyncio.create_task(sleeper()) for _ in range(n)]
    for t in tasks:
        await t


asyncio.run(main())
