# W6 wait_for on CPython asyncio (uvloop with --uvloop): N tasks, even ones
# sleep 0.1 s and odd ones 0.3 s, each under a 0.2 s wait_for; prints how many
# timed out (N / 2). Measures timeouts and cancellation (ideal wall: 0.2 s).
# Usage: w6_wait_for.py [N] [--uvloop]
import asyncio
import sys


async def bounded(i):
    try:
        await asyncio.wait_for(asyncio.sleep(0.1 if i % 2 == 0 else 0.3), 0.2)
        return 0
    except TimeoutError:
        return 1


async def main(n):
    results = await asyncio.gather(*[asyncio.create_task(bounded(i)) for i in range(1, n + 1)])
    print(f"result={sum(results)}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--uvloop"]
    if "--uvloop" in sys.argv[1:]:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(args[0]) if args else 100000))
