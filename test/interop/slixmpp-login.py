# Logs in to a server with slixmpp (the Debian python3-slixmpp, run by /usr/bin/python3) over STARTTLS and
# prints one JSON line: every <auth/> it sent (mechanism and GS2 channel-binding flag), every SASL failure it
# got, whether the session started, and the TLS version. Driven by test/interop/slixmpp.ts.
#
# usage: slixmpp-login.py HOST PORT JID PASSWORD [MECHANISM]   (SLIX_DEBUG=1: slixmpp's own log on stderr)
import asyncio
import base64
import json
import logging
import os
import re
import ssl
import sys

import slixmpp

host, port, jid, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
mechanism = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] else None
logging.basicConfig(level=logging.DEBUG if os.environ.get("SLIX_DEBUG") else logging.CRITICAL)

result = {'auths': [], 'failures': [], 'session': False, 'tls': None, 'error': None}
xmpp = slixmpp.ClientXMPP(jid, password, sasl_mech=mechanism)
# The test server's certificate is self-signed.
xmpp.ssl_context.check_hostname = False
xmpp.ssl_context.verify_mode = ssl.CERT_NONE

AUTH = re.compile(r"<auth [^>]*mechanism=[\"']([^\"']+)[\"'][^>]*>([^<]*)</auth>")
send_raw = xmpp.send_raw


def recording_send_raw(data):
    m = AUTH.search(data if isinstance(data, str) else data.decode())
    if m:
        payload = base64.b64decode(m.group(2)).decode(errors='replace') if m.group(2) not in ('', '=') else ''
        # The GS2 channel-binding flag: 'n', 'y' or 'p=TYPE' (SCRAM only).
        flag = payload.split(',', 1)[0] if m.group(1).startswith('SCRAM') else None
        result['auths'].append({'mechanism': m.group(1), 'cb': flag})
    return send_raw(data)


xmpp.send_raw = recording_send_raw
done = asyncio.get_event_loop().create_future()


def finish(*_):
    if not done.done():
        done.set_result(None)


def on_failed(stanza):
    result['failures'].append(stanza['condition'])


def on_session(_):
    result['session'] = True
    sock = xmpp.socket
    result['tls'] = sock.version() if hasattr(sock, 'version') else None
    finish()


xmpp.add_event_handler('failed_auth', on_failed)
xmpp.add_event_handler('session_start', on_session)
xmpp.add_event_handler('failed_all_auth', finish)
xmpp.add_event_handler('disconnected', finish)
xmpp.connect((host, port))


async def main():
    try:
        await asyncio.wait_for(done, 30)
    except asyncio.TimeoutError:
        result['error'] = 'timeout'
    print(json.dumps(result), flush=True)
    xmpp.disconnect(wait=1)
    await asyncio.sleep(0.2)


asyncio.get_event_loop().run_until_complete(main())
