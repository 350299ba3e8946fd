// What a command runs with: the connection's session and the keyspace every connection shares,
// and what a command is in the table (handlers/redis/commands.ts).

import { RespCommand, RespValue } from 'rxwire';
import { Keyspace } from './keyspace';

/** What one connection has chosen: its protocol (HELLO), its name (CLIENT SETNAME), and whether it asked to QUIT. */
export interface Session {
  readonly id: number;
  protocol: 2 | 3;
  /** Latin1, a byte per character, as keys and values are kept. */
  name: string | undefined;
  quit: boolean;
}

export interface Context {
  readonly keyspace: Keyspace;
  readonly session: Session;
}

export interface Command {
  /** Redis's arity: N exactly N words, -N at least N, the command's name included. */
  readonly arity: number;
  /** Refused past the memory budget, as Redis's `denyoom` commands are. */
  readonly denyoom?: boolean;
  readonly run: (args: RespCommand, context: Context) => RespValue;
}
