import { expect } from 'chai';
import { isRight } from 'fp-ts/Either';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { filter, first, firstValueFrom, map, merge, mergeMap, of, timeout } from 'rxjs';
import { decodeIcmpEcho, decodeIPv4Packet, encodeIcmpEcho, encodeIPv4Packet, InvalidOption, rawSocket } from 'rxwire';
import { root, transpileFlags } from '../../../support/net';

const isRoot = process.getuid?.() === 0;

describe('rawSocket', () => {
  before(function () {
    if (!isRoot) this.skip(); // raw sockets need root or CAP_NET_RAW; CI runs as root
  });

  it('sends a hand-built IPv4 packet (protocol 253) with headerIncluded, and another raw socket sees its header and payload', async () => {
    const built = { tos: 0x10, identification: 0x4242, ttl: 17, protocol: 253, source: '127.0.0.1', destination: '127.0.0.1' };
    const payload = Buffer.from(`experiment ${process.pid}`);
    const received = await firstValueFrom(
      merge(rawSocket({ protocol: 253 }), rawSocket({ protocol: 253, headerIncluded: true })).pipe(
        // The receiver is opened first; the sender sends once both are open.
        mergeMap((socket, i) =>
          i === 0
            ? socket.input.pipe(
                map((packet) => decodeIPv4Packet(packet.data)),
                filter(isRight),
                map((decoded) => decoded.right),
                filter((packet) => packet.payload.equals(payload)),
              )
            : socket.send(of({ data: encodeIPv4Packet(built, payload), address: '127.0.0.1' })),
        ),
        timeout(5000),
      ),
    );
    expect(received.header).to.deep.equal(built);
    expect(received.payload).to.deep.equal(payload);
  });

  for (const [address, protocol] of [['127.0.0.1', 'icmp'], ['::1', 'icmpv6']] as const) {
    it(`gets the kernel's echo reply from ${address} over ${protocol}`, async () => {
      const family = protocol === 'icmp' ? 4 : 6;
      const identifier = process.pid & 0xffff;
      const reply = await firstValueFrom(
        rawSocket({ protocol }).pipe(
          mergeMap((socket) =>
            merge(
              socket.send(of({ data: encodeIcmpEcho({ kind: 'request', identifier, sequence: 7, payload: Buffer.from('ping') }, family), address })),
              socket.input.pipe(
                map((packet) => decodeIcmpEcho(packet.data, family)),
                filter(isRight),
                map((decoded) => decoded.right),
                first((echo) => echo.kind === 'reply' && echo.identifier === identifier),
              ),
            ),
          ),
          timeout(5000),
        ),
      );
      expect(reply).to.deep.equal({ kind: 'reply', identifier, sequence: 7, payload: Buffer.from('ping') });
    });
  }

  it('refuses options that cannot go together, in one line', () => {
    expect(() => rawSocket({ protocol: 'icmp', family: 6 })).to.throw(InvalidOption, 'rawSocket: protocol: icmp does not go over IPv6');
    expect(() => rawSocket({ protocol: 253, family: 6, headerIncluded: true })).to.throw(InvalidOption, 'rawSocket: headerIncluded: IP_HDRINCL is for IPv4 only');
    expect(() => rawSocket({ protocol: 256 })).to.throw(InvalidOption, /^rawSocket: protocol: /);
  });

  it('tells a user without root or CAP_NET_RAW so in one line, and ping exits non-zero', function () {
    const asNobody = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...transpileFlags, path.join(root, 'examples', 'ping.ts'), '127.0.0.1', '--count', '1'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 20_000,
    });
    if (asNobody.error) this.skip(); // no setpriv here
    expect(asNobody.stderr).to.equal('ping: raw sockets need root or CAP_NET_RAW\n');
    expect(asNobody.stdout).to.equal('');
    expect(asNobody.status).to.equal(1);
  });
});
