# W2 spawn-yield on CPython asyncio (uvloop with --uvloop): N tasks each yield
# once with sleep(0) and return i; all gathered; prints the sum. Measures task
# creation plus one trip through the ready queue. Usage: w2_spawn_yield.py [N] [--uvloop]
import asyncio
import sys


async def yielder(i):
    await asyncio.sleep(0)
    return i


async def main(n):
    tasks = [asyncio.create_task(yielder(i)) for i in range(1, n + 1)]
    results = await asyncio.gather(*tasks)
    print(f"result={sum(results)}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--uvloop"]
    if "--uvloop" in sys.argv[1:]:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(args[0]) if args else 1000000))
