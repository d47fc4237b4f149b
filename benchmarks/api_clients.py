"""N WebSocket clients of the local API in one process (the benchmark's other programs): aiohttp on one loop.

    DTC_PANEL_API_TOKEN=TOKEN python -m benchmarks.api_clients --port 11180 --clients 20

Prints ``ready`` once every client has its snapshot. Then reads commands from stdin: ``until SEQ`` waits (at
most 30 s) until every client has received the events up to ``SEQ`` (or was dropped) and prints one JSON line
with, per client: the snapshot's seq, events received, position events, whether the sequence numbers ran
without a gap or a reorder, the last seq, the positions held after applying every event, and the ``dropped``
reason if it was told it fell behind. ``quit`` ends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp

TOKEN_ENV = "DTC_PANEL_API_TOKEN"
"""The token comes in the environment, never on a command line other users can list."""


@dataclass
class Tally:
    snapshot_seq: int = -1
    events: int = 0
    position_events: int = 0
    in_order: bool = True
    last_seq: int = -1
    positions: set[tuple[str, str, str]] = field(default_factory=set)
    dropped: str = ""
    closed: bool = False

    def report(self) -> dict[str, Any]:
        out = asdict(self)
        out["positions"] = len(self.positions)
        return out


def _key(item: dict[str, Any]) -> tuple[str, str, str]:
    return (item["mode"], item["account"], item["symbol"])


async def follow(session: aiohttp.ClientSession, url: str, token: str, tally: Tally, ready: asyncio.Event) -> None:
    async with session.ws_connect(url, headers={"Authorization": f"Bearer {token}"}, max_msg_size=0) as ws:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            kind = data["type"]
            if kind == "snapshot":
                tally.snapshot_seq = tally.last_seq = data["seq"]
                tally.positions = {_key(p) for p in data["positions"]}
                ready.set()
            elif kind == "events":
                for event in data["events"]:
                    tally.events += 1
                    if event["seq"] != tally.last_seq + 1:
                        tally.in_order = False
                    tally.last_seq = event["seq"]
                    if event["type"].startswith("position_"):
                        tally.position_events += 1
                        if event["type"] == "position_closed":
                            tally.positions.discard(_key(event))
                        else:
                            tally.positions.add(_key(event["position"]))
            elif kind == "dropped":
                tally.dropped = data["reason"]
    tally.closed = True


async def main_async(port: int, token: str, count: int) -> None:
    url = f"http://127.0.0.1:{port}/stream"
    tallies = [Tally() for _ in range(count)]
    readies = [asyncio.Event() for _ in range(count)]
    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(follow(session, url, token, t, r)) for t, r in zip(tallies, readies, strict=True)]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if not line or line == "quit":
                break
            if line.startswith("until "):
                target = int(line.split()[1])
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline and not all(
                    t.last_seq >= target or t.dropped or t.closed for t in tallies
                ):
                    await asyncio.sleep(0.02)
                print(json.dumps([t.report() for t in tallies]), flush=True)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main_async(args.port, os.environ[TOKEN_ENV], args.clients))


if __name__ == "__main__":
    main()
