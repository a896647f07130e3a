// A spinner with elapsed time on stderr while a key generates (node reports no real progress for RSA), only
// when stderr is a terminal; otherwise one line at the start and one at the end, so logs stay readable.
import type { ProgressEvent } from '../../keys/index.ts';
import type { OutputStream } from '../io.ts';

const FRAMES = ['|', '/', '-', '\\'];

export function progressReporter(label: string, stream: OutputStream): (e: ProgressEvent) => void {
  let i = 0;
  const tty = !!stream.isTTY;
  return (e) => {
    if (e.phase === 'start') stream.write(tty ? `${label} ${FRAMES[0]}` : `${label}...\n`);
    else if (e.phase === 'working' && tty) stream.write(`\r${label} ${FRAMES[++i % FRAMES.length]} ${(e.elapsedMs / 1000).toFixed(1)} s`);
    else if (e.phase === 'done') stream.write(tty ? `\r${label} done in ${(e.elapsedMs / 1000).toFixed(1)} s\n` : `${label} done in ${(e.elapsedMs / 1000).toFixed(1)} s\n`);
  };
}
