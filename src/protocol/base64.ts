// Base64 and UTF-8 without Buffer, for code that also runs in the browser (console build).
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Throws on text that is not base64 (atob's InvalidCharacterError). */
export function base64ToBytes(s: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

export const utf8Bytes = (s: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(s);

export const utf8Base64 = (s: string): string => bytesToBase64(utf8Bytes(s));

export const base64Utf8 = (s: string): string => new TextDecoder().decode(base64ToBytes(s.trim()));

export const randomHex = (bytes: number): string =>
  Array.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
