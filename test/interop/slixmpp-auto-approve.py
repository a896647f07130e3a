# Juliet as slixmpp 1.8.3 sees her: one client per resource, each with slixmpp's defaults (auto_authorize and
# auto_subscribe: a subscription request is approved and returned at once). Driven by
# slixmpp-auto-approve.test.ts: prints "ready" once every resource is online, and on "done" on stdin pings the
# server from every resource (so everything they sent has been processed), then prints each one's roster as
# JSON and exits.
import asyncio
import json
import sys

import slixmpp


async def main(port: int, jid: str, password: str, resources: list[str]) -> None:
    clients = []
    ready = []
    for res in resources:
        c = slixmpp.ClientXMPP(f"{jid}/{res}", password)
        c.register_plugin("xep_0199")
        started = asyncio.get_running_loop().create_future()

        async def on_start(_event, c=c, started=started):
            await c.get_roster()
            c.send_presence()
            started.set_result(True)

        c.add_event_handler("session_start", on_start)
        c.connect(("127.0.0.1", port), force_starttls=False, disable_starttls=True)
        clients.append(c)
        ready.append(started)
    await asyncio.wait_for(asyncio.gather(*ready), 20)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while (await reader.readline()).strip() != b"done":
        pass
    for c in clients:
        await c["xep_0199"].ping(jid=c.boundjid.domain, timeout=10)
    out = {}
    for c in clients:
        # slixmpp's own view, kept up to date by roster pushes.
        out[c.boundjid.resource] = {str(j): {"subscription": c.client_roster[j]["subscription"]} for j in c.client_roster}
    print(json.dumps(out), flush=True)
    for c in clients:
        c.disconnect()
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4].split(",")))
