# W8 tail latency under load on CPython asyncio (uvloop with --uvloop): while
# the loop holds N other tasks, a ticker sleeps 1 ms in a loop for 2 s and
# records how late each wake-up is. Variant `sleepers` (default): the N tasks
# are parked on a 3 s sleep. Variant `pingpong`: N/2 pairs (N even) pass a
# counter through two queues of size 1 without pause until the ticker is done.
# Prints the lateness in ms (median, p99, max; index ceil(q*k) of the k sorted
# ticks) and how many of the N tasks finished (N).
# The clock is time.monotonic(), which is asyncio's loop.time(); uvloop's
# loop.time() is libuv's cached millisecond clock, too coarse for this.
# Usage: w8_latency.py [N] [sleepers|pingpong] [--uvloop]
import asyncio
import sys
import time


async def main(n, variant):
    stop = False

    async def sleeper():
        await asyncio.sleep(3)
        return 1

    # Pairs stop promptly: ping checks the flag after each exchange, then
    # sends pong a None sentinel (pong is waiting in get by then).
    async def ping(to_pong, to_ping):
        counter = 0
        while not stop:
            await to_pong.put(counter)
            counter = await to_ping.get()
        await to_pong.put(None)
        return 1

    async def pong(to_pong, to_ping):
        while (v := await to_pong.get()) is not None:
            await to_ping.put(v + 1)
        return 1

    if variant == "sleepers":
        tasks = [asyncio.create_task(sleeper()) for _ in range(n)]
    elif variant == "pingpong":
        tasks = []
        for _ in range(n // 2):
            to_pong, to_ping = asyncio.Queue(1), asyncio.Queue(1)
            tasks.append(asyncio.create_task(ping(to_pong, to_ping)))
            tasks.append(asyncio.create_task(pong(to_pong, to_ping)))
    else:
        sys.exit(f"variant must be sleepers or pingpong, got {variant}")
    await asyncio.sleep(0)  # every task has run up to its first wait

    # The ticker (this main task).
    late, start = [], time.monotonic()
    while time.monotonic() - start < 2:
        t0 = time.monotonic()
        await asyncio.sleep(0.001)
        late.append((time.monotonic() - (t0 + 0.001)) * 1000)
    stop = True

    finished = sum(await asyncio.gather(*tasks))
    late.sort()
    k = len(late)
    print(f"lateness_ms median={late[(k + 1) // 2 - 1]:.3f} p99={late[(99 * k + 99) // 100 - 1]:.3f} "
          f"max={late[k - 1]:.3f} ticks={k}")
    print(f"result={finished}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--uvloop"]
    if "--uvloop" in sys.argv[1:]:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(args[0]) if args else 100000, args[1] if len(args) > 1 else "sleepers"))
