// A handler module for the crash-loop specs, served by `rxwire --handler`: it greets as
// spec/support/greetingHandler.ts does, and kills its whole process when the peer sends `die`.
import { Handler } from 'rxwire';
import { tap } from 'rxjs';
import greeting from './greetingHandler';

const dying: Handler = (input, conn) =>
  greeting(
    input.pipe(tap((chunk) => chunk.includes('die') && process.exit(1))),
    conn,
  );
export default dying;
