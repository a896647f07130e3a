# slixmpp 1.8.3 (Debian's, a client we did not write) as a XEP-0198 peer for slixmpp.test.ts: it logs in
# without TLS (the test server allows it on loopback), enables stream management with resumption, drops
# its TCP connection without a closing tag when told, reconnects and resumes when told, and reports
# every message it receives. One line per event on stdout; commands one per line on stdin.
import asyncio
import sys

import slixmpp


async def main(port: int) -> None:
    xmpp = slixmpp.ClientXMPP('mobile@localhost/slix', 'pw')
    xmpp.register_plugin('xep_0198')
    xmpp['feature_mechanisms'].unencrypted_plain = True
    xmpp['feature_mechanisms'].unencrypted_scram = True
    say = lambda *a: print(*a, flush=True)

    async def session_start(_):
        xmpp.send_presence()
    xmpp.add_event_handler('session_start', session_start)
    xmpp.add_event_handler('sm_enabled', lambda _: say('ENABLED', xmpp['xep_0198'].sm_id))
    xmpp.add_event_handler('session_resumed', lambda _: say('RESUMED'))
    xmpp.add_event_handler('disconnected', lambda _: say('DROPPED'))
    xmpp.add_event_handler('message', lambda m: say('MESSAGE', m['id'], m['body']))

    def connect():
        xmpp.connect(('127.0.0.1', port), force_starttls=False, disable_starttls=True)

    connect()
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if line == 'DROP':
            xmpp.abort()
        elif line == 'RECONNECT':
            connect()
        elif line in ('QUIT', ''):
            xmpp.disconnect()
            await asyncio.sleep(0.2)
            return


asyncio.run(main(int(sys.argv[1])))
