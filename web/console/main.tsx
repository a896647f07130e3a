// The key console UI (preact): log in, my keys, contacts. All protocol work is in session.ts and the SDK.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import QRCode from 'qrcode';
import { ConsoleSession, formatPrint, normalisePrint, type Access, type Alert, type Contact } from './session.ts';
import { describeError } from './errors.ts';
import { readQrFromFile, parseKeyUri, keyUri } from './qr.ts';
import type { TrustView } from '../../src/keys/index.ts';

function useSession(session: ConsoleSession): number {
  const [version, setVersion] = useState(0);
  useEffect(() => session.subscribe(() => setVersion((v) => v + 1)), [session]);
  return version;
}

/** Runs an action, showing its failure as one sentence; returns a busy flag for the button. */
function useAction(): [boolean, string | undefined, (f: () => Promise<unknown>) => Promise<void>] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = async (f: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await f();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return [busy, error, run];
}

function ErrorLine({ error }: { error: string | undefined }) {
  return error ? <p class="error" role="alert">{error}</p> : null;
}

function Login({ onLogin }: { onLogin: (s: ConsoleSession) => void }) {
  const [jid, setJid] = useState('');
  const [password, setPassword] = useState('');
  const [busy, error, run] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => onLogin(await ConsoleSession.login(jid.trim(), password)));
  };
  return (
    <form class="card login" onSubmit={submit} aria-labelledby="login-title">
      <h2 id="login-title" tabIndex={-1}>Log in</h2>
      <label for="jid">Address</label>
      <input id="jid" name="jid" type="email" autocomplete="username" placeholder="juliet@capulet.lit" required value={jid} onInput={(e) => setJid(e.currentTarget.value)} />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      <button type="submit" disabled={busy}>{busy ? 'Logging in…' : 'Log in'}</button>
      <ErrorLine error={error} />
      <p class="hint">Your password is checked with SCRAM; it never leaves this page in clear.</p>
    </form>
  );
}

function Banner({ session }: { session: ConsoleSession }) {
  if (!session.alerts.length) return null;
  return (
    <div class="banner" role="alert" data-testid="key-alert">
      {session.alerts.map((a: Alert) => (
        <p key={`${a.jid} ${a.print} ${a.kind}`}>
          <strong>{a.kind === 'changed' ? `${a.jid} has a new key.` : `${a.jid} revoked a key.`}</strong>{' '}
          {a.kind === 'changed' ? 'Compare its fingerprint with them before you trust it.' : 'Do not use the revoked key any more.'}{' '}
          <button type="button" class="link" onClick={() => session.dismissAlert(a)}>Dismiss</button>
        </p>
      ))}
    </div>
  );
}

function QrImage({ text, label }: { text: string; label: string }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    void QRCode.toDataURL(text, { margin: 1, width: 192, errorCorrectionLevel: 'M' }).then(setUrl);
  }, [text]);
  return url ? <img class="qr" src={url} alt={label} width={192} height={192} /> : null;
}

function AccessChooser({ session, value, onChange }: { session: ConsoleSession; value: Access; onChange: (a: Access) => void }) {
  const [groups, setGroups] = useState<string[]>([]);
  useEffect(() => void session.rosterGroups().then(setGroups), [session]);
  const contacts = [...session.contacts.keys()];
  const chosenGroups = value.model === 'roster' ? value.groups : [];
  const chosenJids = value.model === 'whitelist' ? value.jids : [];
  const toggle = (list: string[], item: string, on: boolean) => (on ? [...list, item] : list.filter((x) => x !== item));
  return (
    <fieldset class="access">
      <legend>Who may see this key</legend>
      <label><input type="radio" name="access" checked={value.model === 'presence'} onChange={() => onChange({ model: 'presence' })} /> Everyone who sees my presence</label>
      <label><input type="radio" name="access" checked={value.model === 'roster'} onChange={() => onChange({ model: 'roster', groups: chosenGroups.length ? chosenGroups : groups.slice(0, 1) })} /> Contacts in these roster groups</label>
      {value.model === 'roster' && (
        <div class="choices" role="group" aria-label="Roster groups">
          {groups.length === 0 && <p class="hint">Your roster has no groups yet.</p>}
          {groups.map((g) => (
            <label key={g}><input type="checkbox" name="group" value={g} checked={chosenGroups.includes(g)} onChange={(e) => onChange({ model: 'roster', groups: toggle(chosenGroups, g, e.currentTarget.checked) })} /> {g}</label>
          ))}
        </div>
      )}
      <label><input type="radio" name="access" checked={value.model === 'whitelist'} onChange={() => onChange({ model: 'whitelist', jids: chosenJids })} /> Only these contacts</label>
      {value.model === 'whitelist' && (
        <div class="choices" role="group" aria-label="Contacts allowed">
          {contacts.map((j) => (
            <label key={j}><input type="checkbox" name="member" value={j} checked={chosenJids.includes(j)} onChange={(e) => onChange({ model: 'whitelist', jids: toggle(chosenJids, j, e.currentTarget.checked) })} /> {j}</label>
          ))}
        </div>
      )}
      <label><input type="radio" name="access" checked={value.model === 'open'} onChange={() => onChange({ model: 'open' })} /> Anyone</label>
    </fieldset>
  );
}

function describeAccess(a: Access): string {
  switch (a.model) {
    case 'presence': return 'everyone who sees your presence';
    case 'roster': return `contacts in ${a.groups.join(', ') || 'no group'}`;
    case 'whitelist': return `${a.jids.length} chosen contact(s)`;
    case 'open': return 'anyone';
  }
}

function MyKeys({ session }: { session: ConsoleSession }) {
  const own = session.own;
  const [access, setAccess] = useState<Access>(own?.published ?? { model: 'presence' });
  const [busy, error, run] = useAction();
  const print = own ? `sha-256:${own.pubkey.form === 'ascii' ? own.pubkey.print : ''}` : '';
  return (
    <section class="card" aria-labelledby="mykeys-title">
      <h2 id="mykeys-title" tabIndex={-1}>My key</h2>
      {!own && (
        <>
          <p>You have no key in this browser. A new Ed25519 key is made here; its private half cannot be exported and is never sent.</p>
          <button type="button" disabled={busy} onClick={() => run(() => session.generate())}>Generate key</button>
          <label for="import-key">Or import a key file</label>
          <input id="import-key" type="file" accept=".pem,.key,.txt,application/x-pem-file,text/plain" aria-describedby="import-key-hint" disabled={busy}
            onChange={(e) => { const f = e.currentTarget.files?.[0]; if (f) void run(async () => session.importPem(await f.text())); }} />
          <p class="hint" id="import-key-hint">An Ed25519 private key as unencrypted PEM, as <code>pepkeys key export --secret</code> writes it for a key without a passphrase. Its private half is kept non-extractable here and never sent.</p>
        </>
      )}
      {own && (
        <>
          <p class="label" id="my-fp-label">Fingerprint</p>
          <p class="fingerprint" data-testid="my-fingerprint" aria-labelledby="my-fp-label">{formatPrint(print)}</p>
          <QrImage text={keyUri(session.jid, print)} label={`QR code of your fingerprint ${formatPrint(print)}`} />
          <p class="status" data-testid="publish-status">
            {own.published ? `Published for ${describeAccess(own.published)}.` : 'Not published yet.'}
            {' '}Valid until {own.pubkey.end.slice(0, 10)}.
          </p>
          <AccessChooser session={session} value={access} onChange={setAccess} />
          <div class="actions">
            <button type="button" disabled={busy} onClick={() => run(() => session.publish(access))}>Publish</button>
            <button type="button" disabled={busy || !own.published} onClick={() => run(() => session.rotate())}>Rotate</button>
            <button type="button" class="danger" disabled={busy || !own.published} onClick={() => {
              if (confirm('Revoke this key? Contacts will be told not to use it any more.')) void run(() => session.revoke());
            }}>Revoke</button>
          </div>
        </>
      )}
      {busy && <p class="hint" aria-live="polite">Working…</p>}
      <ErrorLine error={error} />
    </section>
  );
}

const STATE_LABELS: Record<string, string> = {
  unverified: 'Unverified', verified: 'Verified', revoked: 'Revoked', expired: 'Expired', 'not-yet-valid': 'Not yet valid',
};

function KeyRow({ session, jid, k }: { session: ConsoleSession; jid: string; k: TrustView }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [result, setResult] = useState<string>();
  const [busy, error, run] = useAction();
  const id = `verify-${jid}-${k.print}`.replace(/[^a-z0-9-]/gi, '-');
  const compare = (text: string) =>
    run(async () => {
      if (normalisePrint(text) !== normalisePrint(k.print)) {
        setResult('The fingerprints differ: do not trust this key, and ask your contact which key is theirs.');
        return;
      }
      await session.verify(jid, k.print);
      setResult('The fingerprints match: the key is now verified.');
      setOpen(false);
    });
  const scan = (file: File | undefined) =>
    file && run(async () => {
      const scanned = parseKeyUri(await readQrFromFile(file));
      if (scanned.jid !== jid) throw new Error(`The QR code is for ${scanned.jid}, not ${jid}: scan ${jid}'s code.`);
      await compare(scanned.print);
    });
  return (
    <li class={`key state-${k.effective}`} data-testid="contact-key" data-print={k.print}>
      <span class={`badge ${k.effective}`}>{STATE_LABELS[k.effective] ?? k.effective}</span>
      <span class="fingerprint">{formatPrint(k.print)}</span>
      {k.notAfter && <span class="hint">until {new Date(k.notAfter).toISOString().slice(0, 10)}</span>}
      {k.effective === 'unverified' && (
        <button type="button" class="small" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>Verify</button>
      )}
      {k.effective !== 'revoked' && k.effective !== 'expired' && (
        session.hasAttested(jid, k.print)
          ? <span class="hint" data-testid="attested">You attested this key.</span>
          : <button type="button" class="small secondary" disabled={busy} aria-describedby={`${id}-attest-hint`} onClick={() => run(() => session.attest(jid, k.print))}>Attest</button>
      )}
      <span class="visually-hidden" id={`${id}-attest-hint`}>Sign this key with your own key, publish the signature and send it to {jid}.</span>
      {open && (
        <div id={id} class="verify">
          <label for={`${id}-input`}>Fingerprint {jid} reads to you</label>
          <input id={`${id}-input`} value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autocomplete="off" spellcheck={false} />
          <button type="button" disabled={busy} onClick={() => compare(typed)}>Compare</button>
          <label for={`${id}-file`}>Or a photo of their QR code</label>
          <input id={`${id}-file`} type="file" accept="image/*" capture="environment" onChange={(e) => scan(e.currentTarget.files?.[0])} />
        </div>
      )}
      {result && <p class="hint" role="status">{result}</p>}
      <ErrorLine error={error} />
    </li>
  );
}

function ContactItem({ session, c }: { session: ConsoleSession; c: Contact }) {
  return (
    <li class="contact" data-testid="contact" data-jid={c.entry.jid}>
      <h3>{c.entry.name ?? c.entry.jid}</h3>
      <p class="hint">{c.entry.name ? `${c.entry.jid} · ` : ''}{c.entry.groups.length ? c.entry.groups.join(', ') : 'no group'}</p>
      {c.keys.length === 0 ? <p class="hint" data-testid="no-key">{c.problem ?? 'No key seen yet.'}</p> : (
        <ul class="keys">{c.keys.map((k) => <KeyRow key={k.print} session={session} jid={c.entry.jid} k={k} />)}</ul>
      )}
    </li>
  );
}

function Contacts({ session }: { session: ConsoleSession }) {
  const [busy, error, run] = useAction();
  const list = [...session.contacts.values()].sort((a, b) => a.entry.jid.localeCompare(b.entry.jid));
  return (
    <section class="card" aria-labelledby="contacts-title">
      <h2 id="contacts-title">Contacts</h2>
      {list.length === 0 && <p>Your roster is empty.</p>}
      <ul class="contacts">{list.map((c) => <ContactItem key={c.entry.jid} session={session} c={c} />)}</ul>
      <button type="button" class="secondary" disabled={busy} onClick={() => run(() => session.refreshContacts())}>Reload contacts' keys</button>
      <ErrorLine error={error} />
    </section>
  );
}

function Console({ session, onLogout }: { session: ConsoleSession; onLogout: () => void }) {
  useSession(session);
  const lost = !session.client.isOpen;
  return (
    <>
      <header class="top">
        <span data-testid="whoami">{session.jid}</span>
        <button type="button" class="secondary" onClick={() => void session.logout().finally(onLogout)}>Log out</button>
      </header>
      {lost && <p class="error" role="alert">The connection to the server was lost: log in again.</p>}
      <Banner session={session} />
      <MyKeys session={session} />
      <Contacts session={session} />
    </>
  );
}

function App() {
  const [session, setSession] = useState<ConsoleSession>();
  const main = useRef<HTMLElement>(null);
  useEffect(() => main.current?.querySelector<HTMLElement>('h2')?.focus(), [session]);
  return (
    <>
      <h1>pepkeys key console</h1>
      <main ref={main}>
        {session ? <Console session={session} onLogout={() => setSession(undefined)} /> : <Login onLogin={setSession} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
