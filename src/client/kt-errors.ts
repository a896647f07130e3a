// Why a domain's key-transparency log failed verification (docs/transparency.md "Client"): one code per
// kind of failure, and a sentence that says what the domain did wrong.
export type KtVerifyCode =
  | 'bad-signature' // the head's signature does not verify
  | 'key-changed' // signed by a key other than the one pinned for the domain
  | 'wrong-domain' // a head for another domain
  | 'shrunk' // a head smaller than one already verified
  | 'inconsistent' // the consistency proof to the stored head fails (a fork or a rewritten history)
  | 'inclusion' // an inclusion proof does not lead to the head's root
  | 'bad-leaf' // a leaf that does not decode, or whose sequence number is not its index
  | 'root-mismatch' // the entries served do not hash to the head's root
  | 'not-logged' // a key served on PEP whose publish is not the log's latest event for its item
  | 'bad-answer'; // an answer that is malformed or not the one asked for

export class KtVerifyError extends Error {
  constructor(readonly code: KtVerifyCode, message: string, readonly domain: string) {
    super(message);
    this.name = 'KtVerifyError';
  }
}
