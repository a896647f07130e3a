// node:url in the browser build: jid.ts only asks for domainToUnicode on non-ASCII domains. The browser has
// no IDN-to-Unicode API, so such a domain is kept as typed (the console's own domain is ASCII).
export const domainToUnicode = (domain: string): string => domain;
