# W5 as_completed on CPython asyncio (uvloop with --uvloop): N tasks sleeping
# (i % 1000) / 1000 * 0.2 s, consumed in completion order with as_completed;
# prints how many came. Measures completion-order delivery (ideal wall: 0.2 s).
# Usage: w5_as_completed.py [N] [--uvloop]
import asyncio
import sys


async def main(n):
    tasks = [asyncio.create_task(asyncio.sleep((i % 1000) / 1000 * 0.2))
             for i in range(1, n + 1)]
    count = 0
    for next_done in asyncio.as_completed(tasks):
        await next_done
        count += 1
    print(f"result={count}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--uvloop"]
    if "--uvloop" in sys.argv[1:]:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(args[0]) if args else 100000))
