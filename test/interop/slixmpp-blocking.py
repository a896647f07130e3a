# XEP-0191 with slixmpp 1.8.3's own plugin (xep_0191), a client we did not write. Two resources of one
# account: "chamber" blocks and unblocks, "balcony" has retrieved the list and records the pushes it gets.
# Prints one JSON line with what each step returned; driven by slixmpp-blocking.test.ts.
import asyncio
import json
import sys

import slixmpp


async def main(port: int, jid: str, password: str, target: str) -> None:
    clients = {}
    pushes = []
    for res in ("chamber", "balcony"):
        c = slixmpp.ClientXMPP(f"{jid}/{res}", password)
        c.register_plugin("xep_0030")
        c.register_plugin("xep_0191")
        started = asyncio.get_running_loop().create_future()
        c.add_event_handler("session_start", lambda _e, started=started: started.set_result(True))
        c.connect(("127.0.0.1", port), force_starttls=False, disable_starttls=True)
        await asyncio.wait_for(started, 20)
        clients[res] = c
    chamber, balcony = clients["chamber"], clients["balcony"]
    got_push = asyncio.Event()

    def on_push(kind):
        def handler(iq):
            pushes.append([kind, sorted(str(j) for j in iq[kind]["items"])])
            got_push.set()
        return handler

    balcony.add_event_handler("blocked", on_push("block"))
    balcony.add_event_handler("unblocked", on_push("unblock"))
    out = {}
    await balcony["xep_0191"].get_blocked()
    info = await chamber["xep_0030"].get_info(jid=chamber.boundjid.domain)
    out["feature"] = "urn:xmpp:blocking" in info["disco_info"]["features"]
    out["before"] = sorted(str(j) for j in (await chamber["xep_0191"].get_blocked())["blocklist"]["items"])
    await chamber["xep_0191"].block([target])
    await asyncio.wait_for(got_push.wait(), 10)
    got_push.clear()
    out["blocked"] = sorted(str(j) for j in (await chamber["xep_0191"].get_blocked())["blocklist"]["items"])
    await chamber["xep_0191"].unblock([target])
    await asyncio.wait_for(got_push.wait(), 10)
    out["after"] = sorted(str(j) for j in (await chamber["xep_0191"].get_blocked())["blocklist"]["items"])
    out["pushes"] = pushes
    print(json.dumps(out), flush=True)
    for c in clients.values():
        c.disconnect()
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]))
