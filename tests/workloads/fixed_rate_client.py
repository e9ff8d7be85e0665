"""A load generator at fixed arrivals (open loop): one HTTP/1.0 request on a new
connection every 1/RATE seconds, whether or not the earlier ones were answered, as
independent users arrive. (A closed-loop generator like wrk waits for each answer and
so never offers more than the server serves.) On SIGTERM, SIGINT or after DURATION
seconds it prints one JSON line: requests sent and answered, and the answered ones'
latency p50/p95 in seconds, from the connect() to the end of the response.

usage: fixed_rate_client.py PORT RATE [DURATION]
"""
import asyncio
import json
import signal
import sys
import time


async def one(port, latencies):
    start = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        await reader.read()  # HTTP/1.0: the server closes after the response
        writer.close()
        latencies.append(time.monotonic() - start)
    except OSError:
        pass


def quantile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main():
    port = int(sys.argv[1])
    rate = float(sys.argv[2])
    duration = float(sys.argv[3]) if len(sys.argv) > 3 else 3600.0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    latencies, tasks = [], set()
    start = time.monotonic()
    sent = 0
    while not stop.is_set() and time.monotonic() - start < duration:
        # The n-th request leaves at start + n / rate: late wake-ups do not lower the rate.
        delay = start + sent / rate - time.monotonic()
        if delay > 0:
            try:
                await asyncio.wait_for(stop.wait(), delay)
                break
            except asyncio.TimeoutError:
                pass
        task = asyncio.create_task(one(port, latencies))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        sent += 1
    print(json.dumps({"sent": sent, "answered": len(latencies),
                      "p50_seconds": quantile(latencies, 0.5),
                      "p95_seconds": quantile(latencies, 0.95)}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
