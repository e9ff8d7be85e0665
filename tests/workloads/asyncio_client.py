"""Label: io_network / asyncio.

One asyncio event loop running N (default 64) concurrent tasks, each a loop of
HTTP/1.1 keep-alive requests to a slow local server (argv[1] = port): the loop thread
waits in epoll_wait with many outbound connections outstanding.
"""
import asyncio
import sys


async def client(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    while True:
        writer.write(request)
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(3)  # "ok\n"


async def main_async(port, n):
    await asyncio.gather(*(client(port) for _ in range(n)))


def main():
    port = int(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    asyncio.run(main_async(port, n))


if __name__ == "__main__":
    sys.exit(main())
