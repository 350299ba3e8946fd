import { TLSSocket } from 'node:tls';
import { PeerCertificate, TlsInfo } from '../../core/handler';

/** What a TLS socket's finished handshake agreed, for its ConnectionInfo: plain data, no socket. */
export function tlsInfo(socket: TLSSocket): TlsInfo {
  const cert = socket.getPeerCertificate();
  // Node gives `{}` when the peer sent no certificate.
  const peerCertificate: PeerCertificate | undefined =
    cert && cert.fingerprint256
      ? {
          subject: { ...cert.subject },
          issuer: { ...cert.issuer },
          fingerprint256: cert.fingerprint256,
          serialNumber: cert.serialNumber,
          validFrom: cert.valid_from,
          validTo: cert.valid_to,
        }
      : undefined;
  return {
    protocol: socket.getProtocol() ?? 'unknown',
    alpnProtocol: socket.alpnProtocol || undefined,
    authorized: socket.authorized,
    peerCertificate,
  };
}
