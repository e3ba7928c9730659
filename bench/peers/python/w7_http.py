# W7 loopback HTTP on CPython asyncio (uvloop with --uvloop) with aiohttp: an
# HTTP/1.1 server on 127.0.0.1 (aiohttp.web via AppRunner/TCPSite, any free
# port, keep-alive) answers GET /i with the body "i"; N GETs by one
# aiohttp.ClientSession (keep-alive), at most 100 in flight (Semaphore(100));
# prints the sum of the bodies. Needs python3-aiohttp.
# Usage: w7_http.py [N] [--uvloop]
import asyncio
import sys

import aiohttp
from aiohttp import web


async def handle(request):
    return web.Response(text=request.match_info["i"], content_type="text/plain")


async def main(n):
    app = web.Application()
    app.router.add_get("/{i}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}/"
    pool = asyncio.Semaphore(100)
    total = 0

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
        async def fetch(i):
            nonlocal total
            async with pool:
                async with session.get(base + str(i)) as response:
                    if response.status != 200:
                        raise RuntimeError(f"GET /{i}: status {response.status}")
                    total += int(await response.text())

        await asyncio.gather(*[asyncio.create_task(fetch(i)) for i in range(1, n + 1)])
    await runner.cleanup()
    print(f"result={total}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--uvloop"]
    if "--uvloop" in sys.argv[1:]:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(args[0]) if args else 10000))
