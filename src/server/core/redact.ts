// Secrets removed from XML before it is logged: SASL payloads (RFC 6120 §6.4: <auth/>, <response/>,
// <challenge/>, <success/>, and SASL2's <initial-response/>), passwords and digests of jabber:iq:register
// (XEP-0077) and jabber:iq:auth (XEP-0078) or anywhere else, and password fields of data forms. Works on
// text because both directions are logged as text; our serialiser escapes '<' in text, so an element's
// content ends at its closing tag.
const SECRET_ELEMENTS = /<((?:[A-Za-z_][\w.-]*:)?(?:auth|response|challenge|success|initial-response|password|digest|token))(\s[^>]*?)?(?<!\/)>[\s\S]*?<\/\1\s*>/g;
const PASSWORD_FIELDS = /(<(?:[A-Za-z_][\w.-]*:)?field\s[^>]*\bvar=(["'])[^"']*password[^"']*\2[^>]*?(?<!\/)>)[\s\S]*?(<\/(?:[A-Za-z_][\w.-]*:)?field\s*>)/gi;

export const REDACTED = '[redacted]';

export function redactXml(xml: string): string {
  return xml.replace(SECRET_ELEMENTS, (_m, name: string, attrs: string | undefined) => `<${name}${attrs ?? ''}>${REDACTED}</${name}>`)
    .replace(PASSWORD_FIELDS, (_m, open: string, _q: string, close: string) => `${open}${REDACTED}${close}`);
}
