// The seed's server: uppercase echo on port 50007, every interface, many clients at once.
//   npx ts-node examples/upper.ts [--port N] [--host H | --unix PATH] [--udp | --rdm | --tls-cert FILE --tls-key FILE] [--help]
// The same handler serves TCP, Unix sockets, TLS, UDP (each datagram answered to its sender) and
// reliable datagrams (--rdm: each message once, acknowledged and retransmitted).
import { serverArgsOrExit, serveUntilSignalled } from 'rxwire/cli';
import upper from 'rxwire/handlers/upper';

const { options, flags } = serverArgsOrExit('upper', process.argv.slice(2));
serveUntilSignalled('upper', options, upper, flags);
