// Minimal typings for xmpp.js, which ships none; only what the tests use.
declare module '@xmpp/xml' {
  export interface Element {
    name: string;
    attrs: Record<string, string>;
    children: (Element | string)[];
    is(name: string, ns?: string): boolean;
    getChild(name: string, ns?: string): Element | undefined;
    getChildren(name: string, ns?: string): Element[];
    getChildText(name: string, ns?: string): string | null;
    getChildElements(): Element[];
    getText(): string;
    toString(): string;
  }
}
declare module '@xmpp/client' {
  import type { Element } from '@xmpp/xml';
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (Element | string | undefined)[]): Element;
  export function client(options: Record<string, unknown>): any;
}
