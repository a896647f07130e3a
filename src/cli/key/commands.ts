// `pepkeys key ...`: generate, publish, list, fetch, revoke, attest, verify, trust, watch, send.
import { Command, Option } from 'commander';
import { parseJid, type Jid } from '../../jid/index.ts';
import {
  generateKeyPair, createPubkey, createRevocation, createAttestation, signerFromPubkey, buildAttestation, parsePubkey,
  pubkeyPrintId, pubkeyPrintAlgo, keyKind, pubkeyPublicKey, checkPubkeyPrint, pubkeyValidity,
  type Pubkey, type TrustView, type RsaBits, type PayloadVersion,
} from '../../keys/index.ts';
import { parseXml } from '../../xml/index.ts';
import { ACCESS_MODELS, getRoster, type AccessModel, type KeyEvent, type RevocationEvent, type AttestationEvent, type PublishOptions } from '../../client/index.ts';
import { CliError } from '../errors.ts';
import { collect } from '../common.ts';
import { EXIT_NOT_FOUND, EXIT_TRUST } from './exit-codes.ts';
import { keyId, type KeyHome, type OwnKey, type PublishSettings } from './home.ts';
import { matchFingerprint } from './fingerprint-arg.ts';
import { printJson, printJsonLine, table, warn, info } from './output.ts';
import { progressReporter } from './progress.ts';
import {
  action, addCommonOptions, addConnectOptions, addJidOption, accountJid, homeOf, openSession, withSession,
  type CommonFlags, type ConnectFlags, type Session,
} from './session.ts';

interface GenerateFlags extends ConnectFlags {
  type: 'rsa' | 'ed25519';
  bits: string;
  validDays: string;
  keyVersion?: string;
  announce?: boolean;
}

interface PublishFlags extends ConnectFlags {
  access?: AccessModel;
  group?: string[];
  allow?: string[];
  reconfigure?: boolean;
  force?: boolean;
}

export function keyCommand(): Command {
  const key = new Command('key').description('XEP-0189 public keys: generate, publish, fetch, revoke, attest, trust (see docs/cli-keys.md)');

  // ------------------------------------------------------------ generate
  addConnectOptions(addCommonOptions(key.command('generate').description('generate a key pair for your account and make it the current key')))
    .addOption(new Option('--type <type>', 'key type').choices(['rsa', 'ed25519']).default('rsa'))
    .option('--bits <n>', 'RSA key size: 2048, 3072 or 4096', '3072')
    .option('--valid-days <n>', 'validity period in days, from now', '365')
    .addOption(new Option('--key-version <v>', 'payload version: 2 (urn:xmpp:pubkey:2, RSA only) or 1 (urn:xmpp:pubkey:1)').choices(['1', '2']))
    .option('--announce', 'log in and show <generating/> in your presence while the key is generated (XEP-0189 §9)')
    .action(action(async (flags: GenerateFlags) => {
      const jid = accountJid(flags);
      const home = homeOf(flags);
      const bits = Number(flags.bits) as RsaBits;
      const days = Number(flags.validDays);
      if (!(days > 0)) throw new CliError(`--valid-days ${flags.validDays}: expected a positive number`);
      const version = (flags.keyVersion ? Number(flags.keyVersion) : flags.type === 'rsa' ? 2 : 1) as PayloadVersion;
      if (version === 2 && flags.type !== 'rsa') throw new CliError('urn:xmpp:pubkey:2 can only carry RSA keys; use --key-version 1 for Ed25519');
      const session = flags.announce ? await openSession(flags) : undefined;
      try {
        session?.keys.announceGenerating(true);
        const label = flags.type === 'rsa' ? `generating RSA-${bits} key` : 'generating Ed25519 key';
        const pair = await generateKeyPair(flags.type === 'rsa' ? { type: 'rsa', bits, onProgress: progressReporter(label) } : { type: 'ed25519', onProgress: progressReporter(label) });
        const begin = new Date();
        const pk = createPubkey({ publicKey: pair.publicKey, jid: jid.bare, begin, end: new Date(begin.getTime() + days * 86_400_000), version });
        const id = await home.addKey(jid.bare, pk, pair.privateKey);
        session?.keys.announceGenerating(false);
        const own: OwnKey = { id, pubkey: pk, current: true, revoked: false };
        if (flags.json) printJson(ownKeyJson(own));
        else process.stdout.write(table([ownKeyRow(own)], OWN_COLUMNS));
        const others = (await home.keys(jid.bare)).filter((k) => k.id !== id && !k.revoked);
        if (others.length) info(`the new key is now current; publish it with \`pepkeys key publish\`, then revoke the old one with \`pepkeys key revoke ${others.map((k) => `sha-256:${k.id.slice(0, 16)}`).join(' / ')}\``);
      } finally {
        await session?.close();
      }
    }));

  // ------------------------------------------------------------ publish
  addPublishOptions(addConnectOptions(addCommonOptions(key.command('publish').description('publish your current key to your PEP node (item "current") with XEP-0222 options'))))
    .action(action(async (flags: PublishFlags) => {
      const jid = accountJid(flags);
      const home = homeOf(flags);
      const current = await home.current(jid.bare);
      if (!current) throw new CliError(`no current key for ${jid.bare} in ${home.dir}; run \`pepkeys key generate\` first`, EXIT_NOT_FOUND);
      const state = await home.state(jid.bare);
      const settings = publishSettings(flags, state.publish);
      await withSession(flags, async (s) => {
        await s.keys.publishKey(current.pubkey, publishOptions(settings, flags));
        state.publish = settings;
        await home.saveState(jid.bare, state);
      });
      const who = describeAccess(settings);
      if (flags.json) printJson({ published: ownKeyJson(current), node: current.pubkey.version === 2 ? 'urn:xmpp:pubkey:2' : 'urn:xmpp:pubkey:1', item: 'current', access: settings });
      else process.stdout.write(`published key ${fp(current.id)} for ${jid.bare} (${who})\n`);
    }));

  // ------------------------------------------------------------ list
  addJidOption(addCommonOptions(key.command('list').description("list your own keys, or the keys of JID in your trust store").argument('[jid]', 'a contact')))
    .action(action(async (jidArg: string | undefined, flags: CommonFlags & { jid?: string }) => {
      const home = homeOf(flags);
      if (jidArg === undefined) {
        const own = await home.keys(accountJid(flags).bare);
        if (flags.json) printJson(own.map(ownKeyJson));
        else if (own.length) process.stdout.write(table(own.map(ownKeyRow), OWN_COLUMNS));
        else info(`no keys yet in ${home.dir}; run \`pepkeys key generate\``);
        return;
      }
      const bare = parseJid(jidArg).bare;
      const trust = await home.openTrust();
      try {
        const views = await trust.keys(bare);
        if (flags.json) printJson(views.map(trustJson));
        else if (views.length) process.stdout.write(table(views.map(trustRow), TRUST_COLUMNS));
        else info(`no keys of ${bare} in your trust store; run \`pepkeys key fetch ${bare}\``);
      } finally {
        await trust.close();
      }
    }));

  // ------------------------------------------------------------ fetch
  addConnectOptions(addCommonOptions(key.command('fetch').description("fetch a contact's keys (PEP, else directly from their clients) into your trust store").argument('<jid>', 'bare JID, or a full JID to ask one client directly')))
    .action(action(async (jidArg: string, flags: ConnectFlags) => {
      const target = parseJid(jidArg);
      const result = await withSession(flags, (s) => s.keys.fetch(target.full));
      if (result.pepProblem) warn(`${result.pepProblem}; got the key directly from ${target.bare}'s client instead`);
      const changed = result.keys.filter((k) => k.result.kind === 'changed');
      for (const k of changed) warn(changedSentence(k));
      for (const r of result.revocations) if (!r.outcome.ok) warn(`ignored a revocation from ${r.jid}: ${r.outcome.message}`);
      if (flags.json) {
        printJson({ jid: result.jid, source: result.source, keys: result.keys.map(keyEventJson), revocations: result.revocations.map(revocationJson), attestations: result.attestations.map(attestationJson) });
      } else {
        process.stdout.write(table(result.keys.map((k) => ({ ...trustRow(k.result.record), seen: k.result.kind, source: k.source })), [...TRUST_COLUMNS, 'seen', 'source']));
        for (const r of result.revocations) if (r.outcome.ok && r.record) process.stdout.write(`revoked: ${fp(r.record.print)} (revocation checked)\n`);
      }
      if (changed.length) process.exitCode = EXIT_TRUST;
    }));

  // ------------------------------------------------------------ revoke
  addPublishOptions(addConnectOptions(addCommonOptions(key.command('revoke').description('revoke one of your keys: sign a <revoke/> and publish it to your revoke node').argument('<fingerprint>', 'the key to revoke (see `key list`)'))))
    .option('--signer <fingerprint>', 'sign with this key of yours instead of the revoked key itself')
    .action(action(async (fpArg: string, flags: PublishFlags & { signer?: string }) => {
      const jid = accountJid(flags);
      const home = homeOf(flags);
      const own = await home.keys(jid.bare);
      const target = matchFingerprint(fpArg, own, (k) => k.id, 'key of yours');
      const signerKey = flags.signer ? matchFingerprint(flags.signer, own, (k) => k.id, 'key of yours') : target;
      const signer = signerFromPubkey(signerKey.pubkey, await home.privateKey(jid.bare, signerKey.id));
      const rev = await createRevocation({ revoked: target.pubkey, signer });
      const state = await home.state(jid.bare);
      const settings = publishSettings(flags, state.publish);
      await withSession(flags, async (s) => {
        await s.keys.publishRevocation(rev, publishOptions(settings, flags));
      });
      await home.markRevoked(jid.bare, target.id);
      if (flags.json) printJson({ revoked: ownKeyJson({ ...target, revoked: true, current: false }), signer: fp(signerKey.id), revocationtime: rev.revocationtime });
      else process.stdout.write(`revoked key ${fp(target.id)} of ${jid.bare} (signed by ${signerKey.id === target.id ? 'the key itself' : fp(signerKey.id)}, published ${describeAccess(settings)})\n`);
      if (target.current) warn('that was your current key; generate and publish a new one');
    }));

  // ------------------------------------------------------------ attest
  addPublishOptions(addConnectOptions(addCommonOptions(key.command('attest').description("sign a contact's key with your current key, publish the attestation and send it to them").argument('<jid>', 'the contact').argument('<fingerprint>', 'their key (see `key list JID`)'))))
    .action(action(async (jidArg: string, fpArg: string, flags: PublishFlags) => {
      const me = accountJid(flags);
      const home = homeOf(flags);
      const bare = parseJid(jidArg).bare;
      const mine = await home.current(me.bare);
      if (!mine) throw new CliError(`no current key for ${me.bare}; run \`pepkeys key generate\` first`, EXIT_NOT_FOUND);
      const trust = await home.openTrust();
      let subject: Pubkey;
      let view: TrustView;
      try {
        view = matchFingerprint(fpArg, await trust.keys(bare), (v) => v.print, `key of ${bare}`);
        if (view.effective === 'revoked') throw new CliError(`key ${fp(view.print)} of ${bare} is revoked; refusing to attest it`, EXIT_TRUST);
        if (!view.payload) throw new CliError(`the trust store has no key data for ${fp(view.print)}; fetch it first`, EXIT_NOT_FOUND);
        subject = parsePubkey(parseXml(view.payload));
      } finally {
        await trust.close();
      }
      if (view.effective !== 'verified') warn(`you have not verified ${bare}'s key ${fp(view.print)} out of band (\`pepkeys key trust\`); attesting it anyway`);
      const signer = signerFromPubkey(mine.pubkey, await home.privateKey(me.bare, mine.id));
      const att = await createAttestation({ subject, signer, signerJid: me.bare });
      const state = await home.state(me.bare);
      const settings = publishSettings(flags, state.publish);
      const item = await withSession(flags, async (s) => {
        const id = await s.keys.publishAttestation(att, bare, publishOptions(settings, flags));
        s.keys.sendPayload(bare, buildAttestation(att), `${me.bare} attests your key ${fp(view.print)}`);
        return id;
      });
      if (flags.json) printJson({ attested: { jid: bare, print: view.print }, signer: fp(mine.id), item, signtime: att.signtime });
      else process.stdout.write(`attested ${bare}'s key ${fp(view.print)} with your key ${fp(mine.id)}; published and sent to ${bare}\n`);
    }));

  // ------------------------------------------------------------ verify
  addConnectOptions(addCommonOptions(key.command('verify').description("fetch JID's keys, check prints, validity, revocations and attestations, and report whether you verified them").argument('<jid>', 'the contact')))
    .action(action(async (jidArg: string, flags: ConnectFlags) => {
      const bare = parseJid(jidArg).bare;
      const { views, attestations, problem } = await withSession(flags, async (s) => {
        let result;
        let problem: string | undefined;
        try {
          result = await s.keys.fetch(bare);
        } catch (e) {
          problem = (e as Error).message; // still report what the trust store knows
        }
        return { views: await s.trust.keys(bare), attestations: result?.attestations ?? [], problem };
      });
      if (problem) warn(`could not fetch ${bare}'s keys now: ${problem}`);
      const checked = views.map((v) => ({ view: v, printOk: v.payload ? checkPubkeyPrint(parsePubkey(parseXml(v.payload))) : undefined }));
      const usable = views.filter((v) => v.effective === 'verified');
      if (flags.json) {
        printJson({ jid: bare, verified: usable.length > 0, keys: checked.map((c) => ({ ...trustJson(c.view), printMatches: c.printOk })), attestations: attestations.map(attestationJson) });
      } else {
        if (views.length) process.stdout.write(table(views.map(trustRow), TRUST_COLUMNS));
        for (const a of attestations) process.stdout.write(`attestation by ${a.attestation.signerjid}: ${a.outcome ? (a.outcome.ok ? 'signature valid' : `INVALID (${a.outcome.message})`) : 'signer key unknown, not checked'}\n`);
        process.stdout.write(usable.length ? `${bare}: verified key ${fp(usable[0]!.print)}\n` : `${bare}: no verified key; compare the fingerprint with ${bare} out of band, then run \`pepkeys key trust ${bare} FINGERPRINT\`\n`);
      }
      if (views.length === 0) throw new CliError(`no keys known for ${bare}`, EXIT_NOT_FOUND);
      if (!usable.length) process.exitCode = EXIT_TRUST;
    }));

  // ------------------------------------------------------------ trust
  addCommonOptions(key.command('trust').description('mark a contact key as verified after comparing its fingerprint out of band').argument('<jid>', 'the contact').argument('<fingerprint>', 'their key'))
    .action(action(async (jidArg: string, fpArg: string, flags: CommonFlags) => {
      const bare = parseJid(jidArg).bare;
      const trust = await homeOf(flags).openTrust();
      try {
        const v = matchFingerprint(fpArg, await trust.keys(bare), (r) => r.print, `key of ${bare}`);
        const after = await trust.verify(bare, v.print);
        if (flags.json) printJson(trustJson(after));
        else process.stdout.write(`verified ${bare}'s key ${fp(after.print)}\n`);
      } finally {
        await trust.close();
      }
    }));

  // ------------------------------------------------------------ watch
  addConnectOptions(addCommonOptions(key.command('watch').description('stay online: print key, revocation and attestation notifications as they come; answer direct key requests')))
    .option('--count <n>', 'exit after N events')
    .option('--duration <seconds>', 'exit after this long')
    .action(action(async (flags: ConnectFlags & { count?: string; duration?: string }) => {
      const me = accountJid(flags);
      const home = homeOf(flags);
      const state = await home.state(me.bare);
      let rosterCache: Awaited<ReturnType<typeof getRoster>> | undefined;
      let session: Session | undefined;
      // Direct requests (XEP-0189 §7) get the same answer PEP would give: the access model of the last publish.
      const directAccess = async (requester: Jid): Promise<boolean> => {
        const p = state.publish;
        if (!p || !session) return false;
        if (requester.bare === me.bare) return true;
        if (p.access === 'open') return true;
        if (p.access === 'whitelist') return (p.allow ?? []).includes(requester.bare);
        rosterCache ??= await getRoster(session.client);
        const item = rosterCache.find((r) => r.jid === requester.bare);
        if (!item || (item.subscription !== 'from' && item.subscription !== 'both')) return false;
        return p.access === 'presence' || item.groups.some((g) => (p.groups ?? []).includes(g));
      };
      session = await openSession(flags, { directAccess, ownKeyLoader: async (h, bare) => (await h.current(bare))?.pubkey });
      const s = session;
      const limit = flags.count === undefined ? Infinity : Number(flags.count);
      let seen = 0;
      let finish!: () => void;
      const done = new Promise<void>((r) => (finish = r));
      const emit = (obj: Record<string, unknown>, line: string) => {
        if (flags.json) printJsonLine({ time: new Date().toISOString(), ...obj });
        else process.stdout.write(`${new Date().toISOString()}  ${line}\n`);
        if (++seen >= limit) finish();
      };
      s.keys.on('key', (k) => emit({ event: 'key', ...keyEventJson(k) }, k.result.kind === 'changed' ? `KEY CHANGED  ${changedSentence(k)}` : `KEY ${k.result.kind.toUpperCase()}  ${k.jid} ${fp(k.result.record.print)} (${k.result.record.effective}, via ${k.source})`));
      s.keys.on('revocation', (r) => emit({ event: 'revocation', ...revocationJson(r) }, r.outcome.ok && r.record ? `REVOKED  ${r.jid} key ${fp(r.record.print)} (signature checked)` : `REVOCATION IGNORED  ${r.jid}: ${r.outcome.ok ? 'no record' : r.outcome.message}`));
      s.keys.on('attestation', (a) => emit({ event: 'attestation', ...attestationJson(a) }, `ATTESTATION  ${a.jid} key attested by ${a.attestation.signerjid}: ${a.outcome ? (a.outcome.ok ? 'valid' : a.outcome.message) : 'not checked (signer key unknown)'}`));
      s.keys.on('invalid', (i) => emit({ event: 'invalid', ...i }, `INVALID  ${i.jid} (${i.source}): ${i.reason}`));
      s.keys.on('generating', (g) => { if (g.generating) emit({ event: 'generating', jid: g.jid }, `GENERATING  ${g.jid} is generating a key`); });
      s.client.on('close', (err) => {
        if (err) warn(`connection lost: ${err.message}`);
        finish();
      });
      const stop = () => finish();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const timer = flags.duration ? setTimeout(stop, Number(flags.duration) * 1000) : undefined;
      await s.keys.onlineAndReady();
      info(`watching as ${s.jid.full}; Ctrl-C to stop`);
      try {
        await done;
      } finally {
        if (timer) clearTimeout(timer);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await s.close();
      }
    }));

  // ------------------------------------------------------------ send
  addConnectOptions(addCommonOptions(key.command('send').description('send your current key to JID in a <message/> (XEP-0189 §8), without PEP').argument('<jid>', 'bare or full JID')))
    .action(action(async (jidArg: string, flags: ConnectFlags) => {
      const me = accountJid(flags);
      const to = parseJid(jidArg);
      const current = await homeOf(flags).current(me.bare);
      if (!current) throw new CliError(`no current key for ${me.bare}; run \`pepkeys key generate\` first`, EXIT_NOT_FOUND);
      await withSession(flags, async (s) => s.keys.sendKey(to.full, current.pubkey, `public key of ${me.bare}: ${fp(current.id)}`));
      if (flags.json) printJson({ sent: ownKeyJson(current), to: to.full });
      else process.stdout.write(`sent key ${fp(current.id)} to ${to.full}\n`);
    }));

  return key;
}

// ---------------------------------------------------------------- helpers

function addPublishOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--access <model>', 'who may read: open, presence (contacts subscribed to you), roster (only --group), whitelist (only --allow); default: as last published, else presence').choices([...ACCESS_MODELS]))
    .option('--group <name>', 'roster group allowed by --access roster; repeatable', collect)
    .option('--allow <jid>', 'JID allowed by --access whitelist; repeatable', collect)
    .option('--reconfigure', 'if the node exists with other options, change its configuration instead of failing')
    .option('--force', "publish even if the server's PEP lacks publish-options (XEP-0222 §5 advises against it)");
}

function publishSettings(flags: PublishFlags, previous: PublishSettings | undefined): PublishSettings {
  const access = flags.access ?? previous?.access ?? 'presence';
  const s: PublishSettings = { access };
  const groups = flags.group ?? (flags.access ? undefined : previous?.groups);
  const allow = flags.allow ?? (flags.access ? undefined : previous?.allow);
  if (access === 'roster') {
    if (!groups?.length) throw new CliError('--access roster needs at least one --group (the roster groups that may read your key)');
    s.groups = groups;
  }
  if (access === 'whitelist') s.allow = (allow ?? []).map((j) => parseJid(j).bare);
  if (flags.group && access !== 'roster') throw new CliError('--group only applies to --access roster');
  if (flags.allow && access !== 'whitelist') throw new CliError('--allow only applies to --access whitelist');
  return s;
}

function publishOptions(s: PublishSettings, flags: PublishFlags): PublishOptions {
  const o: PublishOptions = { accessModel: s.access, persistItems: true, sendLastPublishedItem: 'never' };
  if (s.groups) o.rosterGroups = s.groups;
  if (s.allow) o.whitelist = s.allow;
  if (flags.reconfigure) o.reconfigure = true;
  if (flags.force) o.force = true;
  return o;
}

function describeAccess(s: PublishSettings): string {
  switch (s.access) {
    case 'open': return 'readable by anyone';
    case 'presence': return 'readable by contacts subscribed to your presence';
    case 'roster': return `readable by roster group${s.groups!.length > 1 ? 's' : ''} ${s.groups!.join(', ')}`;
    case 'whitelist': return `readable by ${s.allow?.length ? s.allow.join(', ') : 'nobody but you (no --allow given)'}`;
  }
}

function fp(printOrId: string): string {
  return printOrId.includes(':') ? printOrId : `sha-256:${printOrId}`;
}

const OWN_COLUMNS = ['fingerprint', 'type', 'version', 'status', 'begin', 'end'];
const TRUST_COLUMNS = ['jid', 'fingerprint', 'state', 'first_seen', 'valid_until'];

function keyType(pk: Pubkey): string {
  try {
    const k = pubkeyPublicKey(pk);
    const kind = keyKind(k);
    return kind === 'rsa' ? `rsa-${k.asymmetricKeyDetails?.modulusLength ?? '?'}` : kind;
  } catch {
    return '?';
  }
}

function ownKeyRow(k: OwnKey): Record<string, string> {
  return { fingerprint: fp(k.id), type: keyType(k.pubkey), version: `pubkey:${k.pubkey.version}`, status: k.revoked ? 'revoked' : k.current ? 'current' : 'old', begin: k.pubkey.begin, end: k.pubkey.end };
}

function ownKeyJson(k: OwnKey): Record<string, unknown> {
  return { fingerprint: pubkeyPrintId(k.pubkey), published_print: k.pubkey.form === 'rsakey' ? k.pubkey.rsakey.print.value : k.pubkey.print, algo: pubkeyPrintAlgo(k.pubkey), type: keyType(k.pubkey), version: k.pubkey.version, status: k.revoked ? 'revoked' : k.current ? 'current' : 'old', jid: k.pubkey.jid, begin: k.pubkey.begin, end: k.pubkey.end };
}

function trustRow(v: TrustView): Record<string, string> {
  return { jid: v.jid, fingerprint: v.print, state: v.effective, first_seen: new Date(v.firstSeen).toISOString(), valid_until: v.notAfter === undefined ? '' : new Date(v.notAfter).toISOString() };
}

function trustJson(v: TrustView): Record<string, unknown> {
  return {
    jid: v.jid, fingerprint: v.print, state: v.effective, stored_state: v.state, format: v.format,
    first_seen: new Date(v.firstSeen).toISOString(), last_seen: new Date(v.lastSeen).toISOString(),
    valid_from: v.notBefore === undefined ? undefined : new Date(v.notBefore).toISOString(),
    valid_until: v.notAfter === undefined ? undefined : new Date(v.notAfter).toISOString(),
    verified_at: v.verifiedAt === undefined ? undefined : new Date(v.verifiedAt).toISOString(),
    revoked_at: v.revokedAt === undefined ? undefined : new Date(v.revokedAt).toISOString(),
  };
}

function keyEventJson(k: KeyEvent): Record<string, unknown> {
  return { jid: k.jid, seen: k.result.kind, source: k.source, key: trustJson(k.result.record), previous: k.result.previous.map(trustJson) };
}

function revocationJson(r: RevocationEvent): Record<string, unknown> {
  return { jid: r.jid, source: r.source, applied: r.outcome.ok, reason: r.outcome.ok ? undefined : r.outcome.message, key: r.record ? trustJson(r.record) : undefined };
}

function attestationJson(a: AttestationEvent): Record<string, unknown> {
  return { jid: a.jid, source: a.source, signer: a.attestation.signerjid, signtime: a.attestation.signtime, checked: a.outcome !== undefined, valid: a.outcome?.ok };
}

function changedSentence(k: KeyEvent): string {
  const prev = k.result.previous.map((p) => `${fp(p.print)} (${p.effective})`).join(', ');
  return `${k.jid} presented a NEW key ${fp(k.result.record.print)}; it is stored as unverified next to the known key${k.result.previous.length > 1 ? 's' : ''} ${prev} and is not trusted until you verify it (\`pepkeys key trust ${k.jid} FINGERPRINT\`)`;
}

export type { KeyHome };
