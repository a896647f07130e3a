// Two federating pepkeys servers in-process (capulet.lit and montague.lit, each its own memory storage) with
// static routes to each other's s2s port, and the PEP publish the federation tests share.
import { startTestServer, type TestServer } from './server.ts';
import type { RawClient } from './raw-client.ts';
import type { Element } from '../../src/xml/index.ts';

export interface FederatedPair {
  cap: TestServer;
  mon: TestServer;
  stop(): Promise<void>;
}

/** `s2s` is merged into each server's [s2s] table (listen is always an ephemeral loopback port); `other` adds other tables. */
export async function startFederatedPair(
  capUsers: Record<string, string>, monUsers: Record<string, string>, s2s: Record<string, unknown> = {}, other: Record<string, unknown> = {},
): Promise<FederatedPair> {
  const config = { ...other, s2s: { listen: ['127.0.0.1:0'], ...s2s } };
  const cap = await startTestServer({ hosts: ['capulet.lit'], users: capUsers, config });
  const mon = await startTestServer({ hosts: ['montague.lit'], users: monUsers, config });
  cap.server.s2s!.routes['montague.lit'] = `127.0.0.1:${mon.s2sPort}`;
  mon.server.s2s!.routes['capulet.lit'] = `127.0.0.1:${cap.s2sPort}`;
  return { cap, mon, stop: async () => void (await Promise.all([cap.stop(), mon.stop()])) };
}

/** Publishes one item to a node of the client's own PEP service with access_model=open. */
export function publishOpen(client: RawClient, node: string, item: string): Promise<Element> {
  return client.iq(
    `<iq type='set'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${node}'>${item}</publish>` +
      `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
      `<field var='pubsub#access_model'><value>open</value></field></x></publish-options></pubsub></iq>`,
  );
}
