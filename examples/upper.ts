// The seed's server: uppercase echo on port 50007, every interface, many clients at once.
//   npx ts-node examples/upper.ts [--port N] [--host H | --unix PATH] [--help]
import { runServer } from 'rxwire';
import upper from '../handlers/upper';

runServer('upper', process.argv.slice(2), upper);
