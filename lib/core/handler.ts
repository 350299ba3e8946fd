import { Observable } from 'rxjs';

export type Transport = 'tcp' | 'unix' | 'tls' | 'udp' | 'rdm';

/** What a handler may know about its connection: never the socket itself. */
export interface ConnectionInfo {
  /** Unique within the process; the id that log lines carry. */
  readonly id: number;
  readonly transport: Transport;
  /** `127.0.0.1:50007`, `[::1]:50007`, `unix:/tmp/rxwire.sock` */
  readonly local: string;
  readonly remote: string;
}

/**
 * Turns one connection's incoming chunks into its outgoing chunks. Every RxJS
 * `OperatorFunction<Buffer, Buffer>`, and every `pipe(...)` of them, is a Handler.
 */
export type Handler = (input: Observable<Buffer>, conn: ConnectionInfo) => Observable<Buffer>;
