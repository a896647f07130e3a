// The fingerprint QR code: an xmpp: URI naming the account and the key's print, read back from a photo or
// screenshot with jsQR (an image file input works on every device; no camera permission needed).
import jsQRModule from 'jsqr';

// jsqr is a CommonJS bundle with a `default` export: typed as the module object, bundled as the function.
const jsQR = (typeof (jsQRModule as unknown) === 'function' ? jsQRModule : jsQRModule.default) as typeof jsQRModule.default;

/** xmpp:JID?pubkey;print=sha-256:HEX — the console's own query action, carrying what a person compares. */
export function keyUri(jid: string, print: string): string {
  return `xmpp:${jid}?pubkey;print=${print}`;
}

export function parseKeyUri(text: string): { jid: string; print: string } {
  const m = /^xmpp:([^?]+)\?pubkey;print=([a-z0-9-]+:[0-9a-f]+)$/i.exec(text.trim());
  if (!m) throw new Error('This QR code is not a pepkeys key fingerprint: scan the code shown under "My key".');
  return { jid: decodeURIComponent(m[1]!), print: m[2]!.toLowerCase() };
}

export async function readQrFromFile(file: Blob): Promise<string> {
  const bitmap = await createImageBitmap(file);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  const code = jsQR(data, width, height);
  if (!code) throw new Error('No QR code was found in that picture: take a sharper photo of the whole code.');
  return code.data;
}
