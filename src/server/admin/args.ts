// Argument schemas shared by admin commands.
import { z } from 'zod';
import { parseJid } from '../../jid/index.ts';

/** A bare account JID (user@domain), normalised. */
export const accountJid = z.string().transform((s, ctx) => {
  try {
    const j = parseJid(s);
    if (j.local && !j.resource) return j.bare;
    ctx.addIssue({ code: 'custom', message: `${s} is not a bare account JID (user@domain)` });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid JID ${s}: ${(err as Error).message}` });
  }
  return z.NEVER;
});

const scram = z.strictObject({ salt: z.string(), iterations: z.number().int().positive(), storedKey: z.string(), serverKey: z.string() });
/** SCRAM credentials derived by the client side (the password never crosses the socket). */
export const credentials = z.strictObject({ 'SHA-1': scram, 'SHA-256': scram });
