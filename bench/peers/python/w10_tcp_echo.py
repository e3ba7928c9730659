# W10 TCP echo server on CPython asyncio (uvloop with --uvloop) streams:
# asyncio.start_server on 127.0.0.1 (any free port); each connection writes
# back whatever it reads (reader.read(65536), writer.write, await drain())
# until the client closes. Prints port=<port> once listening; once CONNECTIONS
# connections have come and gone it closes and prints the bytes it echoed.
# bench/run drives it with bench/echo_client.c.
# Usage: w10_tcp_echo.py [CONNECTIONS] [--uvloop]
import asyncio
import sys


async def main(connections):
    echoed = finished = 0
    all_done = asyncio.Event()

    async def echo(reader, writer):
        nonlocal echoed, finished
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                echoed += len(data)
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
            finished += 1
            if finished == connections:
                all_done.set()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    print(f"port={server.sockets[0].getsockname()[1]}", flush=True)
    await all_done.wait()
    server.close()
    await server.wait_closed()
    print(f"result={echoed}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--uvloop"]
    if "--uvloop" in sys.argv[1:]:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(args[0]) if args else 100))
