# W4 semaphore pool on CPython asyncio (uvloop with --uvloop): N tasks each
# acquire a Semaphore(100), sleep(0) and release; all gathered; prints how many
# ran. Measures semaphore wait/wake-up under contention. Usage: w4_semaphore.py [N] [--uvloop]
import asyncio
import sys


async def main(n):
    pool = asyncio.Semaphore(100)
    done = 0

    async def worker():
        nonlocal done
        async with pool:
            await asyncio.sleep(0)
            done += 1

    await asyncio.gather(*[asyncio.create_task(worker()) for _ in range(n)])
    print(f"result={done}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--uvloop"]
    if "--uvloop" in sys.argv[1:]:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(args[0]) if args else 1000000))
