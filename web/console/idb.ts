// A small promise wrapper over IndexedDB: one database per account, holding the account's own keys (as
// CryptoKey objects, which IndexedDB stores without ever exposing a non-extractable private key) and the
// trust records of its contacts' keys.
export type StoreName = 'own' | 'trust';

export class Idb {
  private constructor(private readonly db: IDBDatabase) {}

  static open(account: string): Promise<Idb> {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(`pepkeys-console:${account}`, 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore('own');
        req.result.createObjectStore('trust');
      };
      req.onsuccess = () => resolve(new Idb(req.result));
      req.onerror = () => reject(req.error);
    });
  }

  get<T>(store: StoreName, key: string): Promise<T | undefined> {
    return this.run(store, 'readonly', (s) => s.get(key)) as Promise<T | undefined>;
  }

  put(store: StoreName, key: string, value: unknown): Promise<void> {
    return this.run(store, 'readwrite', (s) => s.put(value, key)).then(() => undefined);
  }

  delete(store: StoreName, key: string): Promise<void> {
    return this.run(store, 'readwrite', (s) => s.delete(key)).then(() => undefined);
  }

  all<T>(store: StoreName): Promise<T[]> {
    return this.run(store, 'readonly', (s) => s.getAll()) as Promise<T[]>;
  }

  close(): void {
    this.db.close();
  }

  private run(store: StoreName, mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = op(this.db.transaction(store, mode).objectStore(store));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
}
