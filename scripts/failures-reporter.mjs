// A node:test reporter that prints nothing while the tests run and, at the end, every failed test again:
// its file, its full name and its error. CI keeps only the tail of the output, where the TAP stream ends
// with counts alone; this puts the failures where they are read.
import { inspect } from 'node:util';

export default async function* failuresReporter(source) {
  const failures = [];
  // test:start events give the chain of suite names for a nested failure.
  const open = new Map();
  for await (const event of source) {
    if (event.type === 'test:start') {
      open.set(`${event.data.file}:${event.data.nesting}`, event.data.name);
    } else if (event.type === 'test:fail') {
      const { file, nesting, name, details } = event.data;
      const error = details?.error;
      // A suite fails when a test inside it fails; the inner failure is already listed.
      if (error?.failureType === 'subtestsFailed') continue;
      const path = [];
      for (let level = 0; level < nesting; level += 1) path.push(open.get(`${file}:${level}`) ?? '?');
      path.push(name);
      failures.push({ file, path: path.join(' > '), error });
    }
  }
  if (failures.length === 0) return;
  yield `\n# ${failures.length} failing test${failures.length === 1 ? '' : 's'}:\n`;
  for (const { file, path, error } of failures) {
    yield `# - ${file ?? '(no file)'}\n#   ${path}\n`;
    const cause = error?.cause ?? error;
    const text = cause instanceof Error ? (cause.stack ?? cause.message) : inspect(cause, { depth: 4 });
    for (const line of String(text).split('\n').slice(0, 12)) yield `#     ${line}\n`;
  }
}
