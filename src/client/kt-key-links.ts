// Which log keys are a domain's own, for gossip (docs/transparency.md "Gossip"): a reference key (the one pinned
// for the domain, else the key of its current head) and every key a chain of its verified rotation statements
// links to it, either way (an older key rotated away, or a newer one rotated to). Tree heads and map heads are
// judged by the same answer, asked of each domain once per comparison.
import { rotationPath, type KtClient } from './transparency.ts';

export interface DomainKeys {
  reference: Uint8Array;
  linked(key: Uint8Array): boolean;
}

/** Rejects (KtVerifyError, IqError) when the reference key or the statements cannot be had. */
export type KeyLinks = (domain: string) => Promise<DomainKeys>;

export function keyLinks(kt: KtClient, pinned: (domain: string) => Promise<Uint8Array | undefined>): KeyLinks {
  const asked = new Map<string, Promise<DomainKeys>>();
  const ask = async (domain: string): Promise<DomainKeys> => {
    const reference = (await pinned(domain)) ?? (await kt.fetchHead(domain)).key;
    const rotations = await kt.keyRotations(domain);
    return { reference, linked: (k) => !!(rotationPath(rotations, domain, reference, k) ?? rotationPath(rotations, domain, k, reference)) };
  };
  return (domain) => {
    let answer = asked.get(domain);
    if (!answer) {
      answer = ask(domain);
      // Awaited by each caller; a failure is theirs to report, not an unhandled rejection meanwhile.
      answer.catch(() => undefined);
      asked.set(domain, answer);
    }
    return answer;
  };
}
