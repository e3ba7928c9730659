# sleepers.py -- W1 on CPython asyncio (or uvloop with --uvloop): N tasks, task i
# sleeps ((i % 1000) / 1000) * 0.5 s and returns i; all awaited; prints the sum.
import asyncio
import sys


async def sleeper(i):
    await asyncio.sleep(((i % 1000) / 1000) * 0.5)
    return i


async def main(n):
    tasks = [asyncio.create_task(sleeper(i)) for i in range(1, n + 1)]
    total = 0
    for task in tasks:
        total += await task
    print(f"sum={total}")


if __name__ == "__main__":
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    n = int(numbers[0]) if numbers else 1000000
    if "--uvloop" in sys.argv:
        import uvloop
        uvloop.install()
    asyncio.run(main(n))
