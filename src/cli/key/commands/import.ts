// `key import FILE`: our own key pairs from `key export --secret` (another home, a backup), or a PEM private key
// from elsewhere (with --jid; a <pubkey/> is made for it as `generate` would). Each key is checked before it is
// stored: a supported type, a <pubkey/> whose print matches, and a private key that belongs to that public key.
import { Command, Option } from 'commander';
import { createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  assertPubkeyPrint, decryptPrivateKey, encryptPrivateKey, isEncryptedPem, keyKind, parsePubkey, pubkeyPublicKey,
  spkiBase64, KeyError, type Pubkey,
} from '../../../keys/index.ts';
import { parseJid } from '../../../jid/index.ts';
import { parseXml } from '../../../xml/index.ts';
import { CliError } from '../../errors.ts';
import type { KeyCommandContext } from '../context.ts';
import { keyId, type OwnKey } from '../home.ts';
import { parseBundle, type BundleEntry } from '../key-bundle.ts';
import { pubkeySettings, type PubkeySettingsFlags } from '../pubkey-settings.ts';
import { addPassphraseOption, passphraseSource } from '../passphrase.ts';
import { OWN_COLUMNS, ownKeyJson, ownKeyRow, shortFp } from '../presenter.ts';
import { action, addCommonOptions, addJidOption, addLongOption, type CommonFlags } from '../session.ts';

interface ImportFlags extends CommonFlags, PubkeySettingsFlags {
  jid?: string;
}

export function importCommand(cx: KeyCommandContext): Command {
  return addLongOption(addPassphraseOption(addJidOption(addCommonOptions(new Command('import').description('import your own key pairs from `key export --secret` (or a PEM private key, with --jid)').argument('<file>', 'the export')))))
    .option('--valid-days <n>', 'for a PEM private key without <pubkey/>: validity in days, from now', '365')
    .addOption(new Option('--key-version <v>', 'for a PEM private key without <pubkey/>: payload version 2 (RSA only) or 1').choices(['1', '2']))
    .action(action(async (file: string, flags: ImportFlags) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      const home = cx.home(flags);
      const ask = passphraseSource(cx.io, flags);
      const want = flags.jid ?? cx.io.env.PEPKEYS_JID;
      const imported: OwnKey[] = [];
      const skipped: string[] = [];
      // Every key is checked before any is stored, so a bad file changes nothing.
      const checked = [];
      for (const [i, entry] of parseBundle(text).entries()) checked.push(await checkEntry(entry, i, flags, want, ask));
      for (const { pubkey, pem, status } of checked) {
        const bare = pubkey.jid;
        const id = keyId(pubkey);
        const existing = await home.keys(bare);
        if (existing.some((k) => k.id === id)) {
          skipped.push(`${bare} ${shortFp(id)}`);
          continue;
        }
        // An imported current key takes over only where the account has none: an import never silently
        // replaces the key you publish.
        const current = status !== 'revoked' && status !== 'old' && !existing.some((k) => k.current);
        await home.storeKey(bare, pubkey, pem, { current, revoked: status === 'revoked' });
        imported.push({ id, pubkey, current, revoked: status === 'revoked', encrypted: isEncryptedPem(pem) });
      }
      if (flags.json) {
        cx.out.json({ imported: imported.map(ownKeyJson), already_present: skipped });
        return;
      }
      if (imported.length) cx.out.table(imported.map((k) => ownKeyRow(k, flags)), OWN_COLUMNS);
      for (const s of skipped) cx.out.info(`already in ${home.dir}: ${s}`);
      for (const k of imported) if (!k.current && !k.revoked && checked.find((c) => keyId(c.pubkey) === k.id)?.status === 'current') {
        cx.out.info(`${k.pubkey.jid} already has a current key in this home; the imported current key ${shortFp(k.id)} is listed as old`);
      }
    }));
}

interface CheckedKey {
  pubkey: Pubkey;
  pem: string;
  status?: BundleEntry['status'];
}

async function checkEntry(e: BundleEntry, i: number, flags: ImportFlags, want: string | undefined, ask: (what: string) => Promise<string>): Promise<CheckedKey> {
  const label = `imported key ${i + 1}${e.jid ? ` of ${e.jid}` : ''}`;
  const encrypted = isEncryptedPem(e.pem);
  const passphrase = encrypted ? await ask(label) : undefined;
  const privateKey = decryptPrivateKey(e.pem, passphrase, label);
  const kind = keyKind(privateKey); // refuses key types we cannot publish (EC, DSA …)
  let pubkey: Pubkey;
  if (e.pubkeyXml) {
    try {
      pubkey = parsePubkey(parseXml(e.pubkeyXml));
    } catch (err) {
      throw new KeyError('bad-payload', `${label}: its <pubkey/> is not valid: ${(err as Error).message}`);
    }
    assertPubkeyPrint(pubkey);
    if (spkiBase64(createPublicKey(privateKey)) !== spkiBase64(pubkeyPublicKey(pubkey))) {
      throw new KeyError('bad-key', `${label}: the private key does not belong to the <pubkey/> exported with it`);
    }
    if (want && parseJid(want).bare !== pubkey.jid) throw new CliError(`${label} is a key of ${pubkey.jid}, not of ${parseJid(want).bare}`);
  } else {
    if (!want) throw new CliError(`${label} is a bare PEM private key: give --jid to say whose key it is`);
    pubkey = pubkeySettings(flags, kind)(createPublicKey(privateKey), parseJid(want).bare);
  }
  // Stored as PKCS#8: an encrypted PKCS#8 as it came, a traditional encrypted PEM re-encrypted our way.
  const pem = !encrypted
    ? privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    : /ENCRYPTED PRIVATE KEY/.test(e.pem) ? e.pem : await encryptPrivateKey(privateKey, passphrase!);
  return { pubkey, pem, ...(e.status ? { status: e.status } : {}) };
}
