// A refusal an admin command reports to the operator as is (its code is part of the protocol); any other
// error becomes 'internal' with its message.
export class AdminError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'AdminError';
  }
}
