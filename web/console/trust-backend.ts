// The SDK's TrustStore backend in the browser: trust records in IndexedDB, so what the user verified stays in
// this browser (and nowhere else).
import type { TrustBackend, TrustRecord } from '../../src/keys/trust.ts';
import type { Idb } from './idb.ts';

const keyOf = (jid: string, print: string) => `${jid} ${print}`;

export class IdbTrustBackend implements TrustBackend {
  constructor(private readonly db: Idb) {}

  get(jid: string, print: string): Promise<TrustRecord | undefined> {
    return this.db.get<TrustRecord>('trust', keyOf(jid, print));
  }

  async list(jid: string): Promise<TrustRecord[]> {
    return (await this.db.all<TrustRecord>('trust')).filter((r) => r.jid === jid).sort((a, b) => a.firstSeen - b.firstSeen);
  }

  put(record: TrustRecord): Promise<void> {
    return this.db.put('trust', keyOf(record.jid, record.print), record);
  }

  async delete(jid: string, print: string): Promise<boolean> {
    const had = (await this.get(jid, print)) !== undefined;
    await this.db.delete('trust', keyOf(jid, print));
    return had;
  }

  async jids(): Promise<string[]> {
    return [...new Set((await this.db.all<TrustRecord>('trust')).map((r) => r.jid))];
  }

  async close(): Promise<void> {}
}
