// HELLO and CLIENT SETNAME: what a connection tells the server about itself.

import { RespCommand, RespValue } from 'rxwire';
import { array, error, int64, integer, map, text, word } from './replies';
import { Context, Session } from './session';

/** Sets the connection's name, or says why Redis would not. */
export function setName(name: string, session: Session): RespValue | undefined {
  for (let i = 0; i < name.length; i++) {
    const byte = name.charCodeAt(i);
    if (byte < 0x21 || byte > 0x7e) return error('ERR Client names cannot contain spaces, newlines or special characters.');
  }
  session.name = name.length === 0 ? undefined : name;
  return undefined;
}

export function hello(args: RespCommand, context: Context): RespValue {
  const { session } = context;
  let protocol = session.protocol;
  if (args.length >= 2) {
    const version = int64(args[1]!);
    if (version === undefined) return error('ERR Protocol version is not an integer or out of range');
    if (version < 2n || version > 3n) return error('NOPROTO unsupported protocol version');
    protocol = Number(version) as 2 | 3;
  }
  let name: string | undefined;
  for (let i = 2; i < args.length; i++) {
    const option = word(args[i]);
    const more = args.length - 1 - i;
    if (option === 'auth' && more >= 2) {
      // There are no users but Redis's default one, which takes any password.
      if (word(args[i + 1]) !== 'default') return error('WRONGPASS invalid username-password pair or user is disabled.');
      i += 2;
    } else if (option === 'setname' && more >= 1) {
      name = args[++i];
    } else return error(`ERR Syntax error in HELLO option '${args[i]!}'`);
  }
  if (name !== undefined) {
    const refused = setName(name, session);
    if (refused) return refused;
  }
  session.protocol = protocol;
  return map(
    [
      [text('server'), text('redis')],
      [text('version'), text(REDIS_VERSION)],
      [text('proto'), integer(protocol)],
      [text('id'), integer(session.id)],
      [text('mode'), text('standalone')],
      [text('role'), text('master')],
      [text('modules'), array([])],
    ],
    context,
  );
}

/** The Redis release whose replies these commands give, word for word. */
export const REDIS_VERSION = '7.0.15';
