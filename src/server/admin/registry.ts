// The admin commands a running server answers. The core registers its own (status, account lifecycle) and
// modules register theirs through ModuleApi.adminCommand, so the core knows no roster or pubsub command.
// Arguments are validated by each command's zod schema before its handler runs.
import type { z } from 'zod';
import { AdminError } from './errors.ts';

export type AdminHandler<A> = (args: A) => unknown | Promise<unknown>;

interface Entry {
  schema: z.ZodType;
  handler: AdminHandler<any>;
}

export class AdminCommands {
  private readonly commands = new Map<string, Entry>();

  register<S extends z.ZodType>(name: string, schema: S, handler: AdminHandler<z.output<S>>): void {
    if (this.commands.has(name)) throw new Error(`admin command ${name} is already registered`);
    this.commands.set(name, { schema, handler });
  }

  names(): string[] {
    return [...this.commands.keys()].sort();
  }

  /** Runs a command; throws AdminError for an unknown command or invalid arguments. */
  async run(name: string, args: unknown): Promise<unknown> {
    const entry = this.commands.get(name);
    if (!entry) throw new AdminError('unknown-command', `this server has no admin command ${name} (it has: ${this.names().join(', ')})`);
    const parsed = entry.schema.safeParse(args);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'arguments'}: ${i.message}`);
      throw new AdminError('bad-args', `${name}: ${problems.join('; ')}`);
    }
    return (await entry.handler(parsed.data)) ?? null;
  }
}
