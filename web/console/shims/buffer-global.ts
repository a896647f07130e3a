// The shared key code formats prints and payloads with Buffer; the `buffer` package provides it in the browser.
export { Buffer } from 'buffer';
