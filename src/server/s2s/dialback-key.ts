// XEP-0185 dialback keys: HMAC-SHA256 keyed with hex(SHA-256(secret)) over "Receiving Originating StreamID"
// (the hex key is what reproduces the keys in XEP-0220's examples).
// Only the originating server (which knows the secret) can produce one; it checks its own on db:verify.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export class DialbackKeys {
  private readonly key: string;

  constructor(secret: Buffer) {
    this.key = createHash('sha256').update(secret).digest('hex');
  }

  generate(receiving: string, originating: string, streamId: string): string {
    return createHmac('sha256', this.key).update(`${receiving} ${originating} ${streamId}`).digest('hex');
  }

  verify(receiving: string, originating: string, streamId: string, key: string): boolean {
    const want = Buffer.from(this.generate(receiving, originating, streamId));
    const got = Buffer.from(key.trim());
    return got.length === want.length && timingSafeEqual(got, want);
  }
}
