// XEP-0163 §4.3.3: a client interested in notifications for node N advertises the disco feature "N+notify".
export function pubkeyFeature(ns: string): string {
  return `${ns}+notify`;
}
