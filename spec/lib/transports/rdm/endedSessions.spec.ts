import { expect } from 'chai';
import { Arrivals } from '../../../../lib/transports/rdm/arrivals';
import { EndedSessions } from '../../../../lib/transports/rdm/endedSessions';

/** A session's receiving side that has taken ids 0 to `count` - 1 of `session`. */
function tookFrom(session: number, count: number): Arrivals {
  const arrivals = new Arrivals();
  for (let id = 0; id < count; id++) {
    expect(arrivals.sort(session, id, 0, () => {})).to.equal('new');
    arrivals.take(id);
  }
  return arrivals;
}

describe('EndedSessions: what an expired rdm session took, kept while its sender may retransmit', () => {
  it('gives a returning peer its session back: a retransmission of a delivered message is delivered, not new', () => {
    const ended = new EndedSessions(1000, 10);
    ended.keep('127.0.0.1:4000', tookFrom(7, 5), 0);
    const back = ended.take('127.0.0.1:4000', 500)!;
    // The sender's floor is still 4: message 4's acknowledgements were all lost.
    expect(back.sort(7, 4, 4, () => {})).to.equal('delivered');
    expect(back.sort(7, 5, 4, () => {})).to.equal('new');
    expect(ended.take('127.0.0.1:4000', 500), 'taken once').to.equal(undefined);
  });

  it('forgets a session after rememberMs, and the oldest past maxPeers', () => {
    const ended = new EndedSessions(1000, 2);
    ended.keep('a', tookFrom(1, 1), 0);
    expect(ended.take('a', 1000)).to.equal(undefined);
    ended.keep('b', tookFrom(2, 1), 0);
    ended.keep('c', tookFrom(3, 1), 0);
    ended.keep('d', tookFrom(4, 1), 0);
    expect(ended.take('b', 10)).to.equal(undefined);
    expect(ended.take('c', 10)?.peerSession).to.equal(3);
    expect(ended.take('d', 10)?.peerSession).to.equal(4);
  });

  it('takes again a message that waited in the inbox when the session ended: never acknowledged, so never delivered', () => {
    const arrivals = tookFrom(9, 1);
    expect(arrivals.sort(9, 1, 0, () => {})).to.equal('new');
    arrivals.take(1, Buffer.from('waiting'));
    arrivals.drop(); // as the session's end does
    const ended = new EndedSessions(1000, 10);
    ended.keep('p', arrivals, 0);
    const back = ended.take('p', 1)!;
    expect(back.waiting).to.equal(0);
    expect(back.sort(9, 1, 1, () => {}), 'its retransmission').to.equal('new');
  });
});
