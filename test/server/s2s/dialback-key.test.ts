// XEP-0185 key generation against the worked examples of XEP-0220 (1.1.1, §2.1.1 and §2.3.2).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DialbackKeys } from '../../../src/server/s2s/dialback-key.ts';

describe('dialback keys (XEP-0185)', () => {
  it('reproduces the key of XEP-0220 Example 1', () => {
    const keys = new DialbackKeys(Buffer.from('s3cr3tf0rd14lb4ck'));
    assert.equal(keys.generate('montague.example', 'capulet.example', 'D60000229F'), 'b4835385f37fe2895af6c196b59097b16862406db80559900d96bf6fa7d23df3');
  });

  it('reproduces the key of the verification example, and verifies only that key for that stream', () => {
    const keys = new DialbackKeys(Buffer.from('d14lb4ck43v3r'));
    const key = '225cc5aa6a071133249d25fef42ae516fc7a86c523aa1c6980a7f73e784c972d';
    assert.equal(keys.generate('capulet.example', 'montague.example', '417GAF25'), key);
    assert.equal(keys.verify('capulet.example', 'montague.example', '417GAF25', `\n  ${key}\n`), true);
    assert.equal(keys.verify('capulet.example', 'montague.example', '417GAF26', key), false);
    assert.equal(keys.verify('montague.example', 'capulet.example', '417GAF25', key), false);
    assert.equal(keys.verify('capulet.example', 'montague.example', '417GAF25', 'short'), false);
  });
});
