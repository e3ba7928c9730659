# W1 sleepers on CPython asyncio (uvloop with --uvloop): N tasks, task i sleeps
# ((i % 1000) / 1000) * 0.5 s and returns i; all gathered; prints the sum.
# Measures timer-heavy task creation and wake-up. Usage: w1_sleepers.py [N] [--uvloop]
import asyncio
import sys


async def sleeper(i):
    await asyncio.sleep(((i % 1000) / 1000) * 0.5)
    return i


async def main(n):
    tasks = [asyncio.create_task(sleeper(i)) for i in range(1, n + 1)]
    results = await asyncio.gather(*tasks)
    print(f"result={sum(results)}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--uvloop"]
    if "--uvloop" in sys.argv[1:]:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(args[0]) if args else 1000000))
