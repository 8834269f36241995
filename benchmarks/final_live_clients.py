"""Light /final clients for benchmarks/final_live.py, so that the clients are not what is measured.

`Raw` speaks Engine.IO 4 / Socket.IO 5 text frames itself over an aiohttp websocket: no
python-socketio client, no JSON decoding of what it receives. It answers pings, keeps the highest
`seq` it has received, and notes when the first message showing a press (a non-empty press
order) of each seq arrived. Each frame is stamped with time.monotonic_ns() as soon as it is
read: CLOCK_MONOTONIC is one clock for every process of the machine, so a screen process's
receive time and the main process's send time (and the server's press stamp) compare directly.

`screen_worker` is one process holding a share of the big screens on its own event loop; the
main process drives it over a Pipe: ("wait", seq) → how many screens are live once every live
one has seq; ("receipts", seq) → the same wait, then each screen's lockout time for seq;
("keep", n) → keep only n screens; ("stop", None).
"""
from __future__ import annotations

import asyncio
import json
import re
import time

SEQ = re.compile(r'"seq":\s*(\d+)')
LOCKOUT = re.compile(r'"order":\s*\[\{')  # the press order is not empty: someone has pressed
PREFIX = "42/final,"


class Raw:
    """One /final Socket.IO connection without a Socket.IO client library."""

    def __init__(self, session, base: str, auth: dict, cookie: str = "", record: bool = True):
        self.session, self.auth, self.record = session, auth, record
        self.url = base.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.headers = {"Cookie": cookie} if cookie else {}
        self.seq, self.closed, self.ws, self.reader = -1, False, None, None
        self.lockouts: dict[int, int] = {}

    async def connect(self, tries: int = 5) -> None:
        for attempt in range(tries):  # a refused handshake while the hall fills is tried again, as a browser would
            try:
                self.ws = await self.session.ws_connect(self.url, headers=self.headers, max_msg_size=0)
                opened = await self.ws.receive(timeout=30)
                if not isinstance(opened.data, str) or not opened.data.startswith("0"):
                    raise ConnectionError(f"no Engine.IO open packet: {opened.data!r}")
                await self.ws.send_str("40/final," + json.dumps(self.auth))
                self.reader = asyncio.create_task(self._read())
                deadline = time.monotonic() + 30
                while self.seq < 0:  # the server sends the state on connect (before its ack, even)
                    if self.closed or time.monotonic() > deadline:
                        raise ConnectionError("refused or no state")
                    await asyncio.sleep(0.005)
                return
            except Exception:  # noqa: BLE001 — aiohttp, timeout and refusal errors alike
                if self.ws is not None:
                    await self.ws.close()
                self.closed, self.seq = False, -1
                if attempt == tries - 1:
                    raise
                await asyncio.sleep(0.5 * (attempt + 1))

    async def _read(self) -> None:
        async for message in self.ws:
            at = time.monotonic_ns()
            data = message.data
            if not isinstance(data, str):
                continue
            if data == "2":
                await self.ws.send_str("3")
            elif data.startswith("44/final,"):  # the namespace refused the connection
                break
            elif data.startswith(PREFIX):
                found = SEQ.search(data)
                if found:
                    seq = int(found.group(1))
                    self.seq = max(self.seq, seq)
                    if self.record and seq not in self.lockouts and LOCKOUT.search(data):
                        self.lockouts[seq] = at
        self.closed = True

    async def send(self, event: str, data: dict) -> int:
        """Send one event; returns the monotonic ns just after the frame was handed to the kernel."""
        await self.ws.send_str(PREFIX + json.dumps([event, data]))
        return time.monotonic_ns()

    async def close(self) -> None:
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()
        self.closed = True


def screen_worker(base: str, token: str, count: int, conn) -> None:
    asyncio.run(_screens(base, token, count, conn))


async def _screens(base: str, token: str, count: int, conn) -> None:
    import aiohttp

    loop = asyncio.get_running_loop()
    # the connector limits a session to 100 connections by default: every screen needs its own
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        screens: list[Raw] = []
        for start in range(0, count, 25):  # in batches, as a hall fills
            batch = [Raw(session, base, {"screen": token}) for _ in range(min(25, count - start))]
            await asyncio.gather(*(s.connect() for s in batch))
            screens += batch
        conn.send(len(screens))
        while True:
            command, arg = await loop.run_in_executor(None, conn.recv)
            if command in ("wait", "receipts"):
                deadline = time.monotonic() + 30
                while any(s.seq < arg for s in screens if not s.closed) and time.monotonic() < deadline:
                    await asyncio.sleep(0.0005)
                live = [s for s in screens if not s.closed]
                conn.send(len(live) if command == "wait" else [s.lockouts.pop(arg, None) for s in live])
            elif command == "keep":
                for screen in screens[arg:]:
                    await screen.close()
                screens = screens[:arg]
                conn.send(len(screens))
            else:
                for screen in screens:
                    await screen.close()
                conn.send(0)
                return
