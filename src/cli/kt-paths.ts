// Files the key-transparency commands keep in the CLI home (docs/transparency.md "Client").
/** HOME/kt-heads.json: per domain, the last verified head (and so the pinned log key). */
export const KT_HEADS_FILE = 'kt-heads.json';
/** HOME/kt-audit.json: per domain, the last audited head and its tree's frontier (incremental `kt audit`). */
export const KT_AUDIT_FILE = 'kt-audit.json';
