# W3 ping-pong on CPython asyncio (uvloop with --uvloop): two tasks (main and
# pong) pass a counter N times through two queues of size 1; prints the final
# counter (N). Measures task switching through a queue. Usage: w3_ping_pong.py [N] [--uvloop]
import asyncio
import sys


async def main(n):
    to_pong, to_ping = asyncio.Queue(1), asyncio.Queue(1)

    async def pong():
        for _ in range(n):
            await to_ping.put(await to_pong.get() + 1)

    pong_task = asyncio.create_task(pong())
    counter = 0
    for _ in range(n):
        await to_pong.put(counter)
        counter = await to_ping.get()
    await pong_task
    print(f"result={counter}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--uvloop"]
    if "--uvloop" in sys.argv[1:]:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(args[0]) if args else 1000000))
