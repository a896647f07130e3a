// Node-only modules (net, tls, fs, better-sqlite3, openpgp) in the browser build: the shared code imports
// them for paths the console never takes (TCP, files, SQLite trust store, OpenPGP keys). Empty on purpose.
module.exports = {};
