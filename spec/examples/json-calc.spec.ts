import { expect } from 'chai';
import { portOf, roundTrip, startProgram } from '../support/net';

describe('examples/json-calc.ts', () => {
  it('answers valid and invalid requests over a real socket, keeping the connection', async function () {
    this.timeout(30000);
    const program = await startProgram('examples/json-calc.ts', ['--port', '0', '--host', '127.0.0.1']);
    try {
      const reply = await roundTrip(
        { port: portOf(program.address) },
        Buffer.from('{"op":"mul","a":6,"b":7}\n{"op":"div","a":1,"b":0}\n{"op":"add","a":[],"b":1}\n{"op":"sub","a":5,"b":3}\n'),
      );
      expect(reply.toString()).to.equal(
        '{"result":42}\n{"error":"division by zero"}\n{"error":".a: expected number, got []"}\n{"result":2}\n',
      );
    } finally {
      program.child.kill('SIGKILL');
    }
  });
});
