# The cost of async: N calls of a function doing real work (a loop of 200
# multiply-adds), called synchronously (`overhead.py sync N`) or as an async
# function awaited at each call (`overhead.py async N`).  The runner
# compares the CPU time of the two.
import asyncio
import sys

mode = sys.argv[1]
n = int(sys.argv[2])


def work(k):
    acc = 0
    i = 0
    while i < 200:
        acc = (acc * 31 + i + k) % 1000003
        i += 1
    return acc


async def work_async(k):
    acc = 0
    i = 0
    while i < 200:
        acc = (acc * 31 + i + k) % 1000003
        i += 1
    return acc


async def main():
    total = 0
    if mode == "sync":
        for k in range(n):
            total += work(k)
    else:
        for k in range(n):
            total += await work_async(k)
    return total


print(asyncio.run(main()))
