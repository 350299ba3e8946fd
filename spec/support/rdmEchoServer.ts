// A reliable-datagram echo server in a process of its own, for specs that measure what it holds:
// `node rdmEchoServer.ts '{"maxBufferedBytes":8388608}'` prints `listening on PORT`; each SIGUSR2
// prints `memory N`, the bytes in use once garbage is collected (JS heap and ArrayBuffers).
import { serveReliableDatagrams } from '../../lib';
import { collected } from './memory';

const options = JSON.parse(process.argv[2] ?? '{}');
void serveReliableDatagrams({ host: '127.0.0.1', port: 0, log: (line) => console.error(line), ...options }, (input) => input).then((server) => {
  console.log(`listening on ${server.port}`);
  process.on('SIGUSR2', () => void collected().then((bytes) => console.log(`memory ${bytes}`)));
  process.on('SIGTERM', () => void server.close(0).then(() => process.exit(0)));
});
