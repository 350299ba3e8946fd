// rxwire/testing: test handlers the RxJS way, in virtual time, with any test runner. Failures are
// node:assert AssertionErrors whose message shows what differs; nothing here needs a global.

export type { Bytes } from './bytes';
export { everySplit } from './everySplit';
export type { EverySplitOptions } from './everySplit';
export { expectHandler } from './expectHandler';
export type { HandlerExpectation, MarbleValues } from './expectHandler';
export type { VirtualPeerOptions } from './run';
export type { PeerReads } from './virtualConnection';
export { record } from './record';
export type { RecordOptions } from './record';
export { InvalidRecording } from './recording';
export type { RecordedEvent } from './recording';
export { expectReplay, replay } from './replay';
export type { Replay } from './replay';
