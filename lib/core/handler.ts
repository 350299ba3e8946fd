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
  /** On a TLS connection: what its handshake agreed, and the peer's certificate. */
  readonly tls?: TlsInfo;
}

/** What a TLS handshake agreed on, and whom with. */
export interface TlsInfo {
  /** `TLSv1.3`, `TLSv1.2`. */
  readonly protocol: string;
  /** The application protocol agreed by ALPN (`h2`, `redis`), or undefined when none was. */
  readonly alpnProtocol: string | undefined;
  /** Whether the peer's certificate was verified against the trusted CAs; false when it sent none. */
  readonly authorized: boolean;
  /** The peer's certificate, when it sent one: always a server's, a client's under `requestCert` (mutual TLS). */
  readonly peerCertificate: PeerCertificate | undefined;
}

/** A peer's certificate, as data: who it names, who signed it, and how to pin it. */
export interface PeerCertificate {
  /** Its subject's fields, as Node gives them: `{ CN: 'alice', O: 'Acme' }` (a field repeated is an array). */
  readonly subject: Readonly<Record<string, string | string[] | undefined>>;
  readonly issuer: Readonly<Record<string, string | string[] | undefined>>;
  /** The SHA-256 fingerprint, `AB:CD:…`, to pin a certificate by. */
  readonly fingerprint256: string;
  readonly serialNumber: string;
  /** `Dec  7 16:00:00 2026 GMT`, as OpenSSL writes dates. */
  readonly validFrom: string;
  readonly validTo: string;
}

/**
 * Turns one connection's incoming chunks into its outgoing chunks. Every RxJS
 * `OperatorFunction<Buffer, Buffer>`, and every `pipe(...)` of them, is a Handler.
 */
export type Handler = (input: Observable<Buffer>, conn: ConnectionInfo) => Observable<Buffer>;
