// How a contract suite gets the thing it tests: a fresh one for each test, or, when the subject can be
// emptied in place, one per suite emptied before each test (for subjects that are slow to open).
import { after, afterEach, before, beforeEach } from 'node:test';

export interface Subject<T> {
  open(): Promise<T> | T;
  close(subject: T): Promise<void> | void;
  /** Empties an open subject; given, one subject serves the whole suite. */
  reset?(subject: T): Promise<void> | void;
}

/** Registers the hooks in the current describe(); the returned getter is the subject of the running test. */
export function subjectOfEachTest<T>({ open, close, reset }: Subject<T>): () => T {
  let current: T | undefined;
  if (reset) {
    before(async () => {
      current = await open();
    });
    beforeEach(async () => {
      await reset(current!);
    });
    after(async () => {
      if (current !== undefined) await close(current);
    });
  } else {
    beforeEach(async () => {
      current = await open();
    });
    afterEach(async () => {
      await close(current!);
      current = undefined;
    });
  }
  return () => {
    if (current === undefined) throw new Error('the contract subject is only there while a test runs');
    return current;
  };
}
