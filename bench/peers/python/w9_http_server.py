# W9 HTTP server under wrk on CPython asyncio (uvloop with --uvloop) with
# aiohttp: aiohttp.web via AppRunner/TCPSite on 127.0.0.1 (any free port,
# keep-alive) answers GET / with 200 "Hello, World!" (text/plain). Prints
# port=<port> once listening, serves for SECONDS, closes, and prints how many
# requests it answered. bench/run points wrk at it. Needs python3-aiohttp.
# Usage: w9_http_server.py [SECONDS] [--uvloop]
import asyncio
import sys

from aiohttp import web

answered = 0


async def handle(request):
    global answered
    answered += 1
    return web.Response(text="Hello, World!", content_type="text/plain")


async def main(seconds):
    app = web.Application()
    app.router.add_get("/", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"port={runner.addresses[0][1]}", flush=True)
    await asyncio.sleep(seconds)
    await runner.cleanup()
    print(f"result={answered}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--uvloop"]
    if "--uvloop" in sys.argv[1:]:
        import uvloop
        uvloop.install()
    asyncio.run(main(float(args[0]) if args else 10))
