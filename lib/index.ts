// The framework's public API, by layer. The command's helpers are in `rxwire/cli` (lib/cli/index.ts).

// core
export { DEFAULTS } from './core/defaults';
export {
  BufferBudgetExceeded,
  DatagramTooLarge,
  DecodeError,
  FlowUnavailable,
  FrameTimeout,
  FrameTooLong,
  IdleTimeout,
  IncompleteFrame,
  InvalidOption,
  MessageTooLarge,
  NoReply,
  ProtocolError,
  ProxyHeaderError,
  ProxyHeaderTimeout,
  RawSocketUnavailable,
  ReplyTimeout,
  WriteTimeout,
  RespLimitExceeded,
  RxwireError,
  SendBacklogFull,
  SessionShed,
  Undeliverable,
  WorkerFailed,
} from './core/errors';
export { CONNECTION_EVENT_TYPES } from './core/events';
export type {
  CloseEvent,
  CloseReason,
  ClosedEvent,
  EventError,
  ExpiredEvent,
  GraceExpiredEvent,
  HandlerErrorEvent,
  ListeningEvent,
  OpenEvent,
  ProtocolErrorEvent,
  RefusalReason,
  RefusedEvent,
  ServerErrorEvent,
  ServerEvent,
  ShutdownEvent,
  UdpDroppedEvent,
  WorkerExitEvent,
  WorkerRestartEvent,
} from './core/events';
export { flowOf } from './core/flow';
export type { Flow, FlowEvent, FrameTally, OutputWatcher } from './core/flow';
export type { ConnectionInfo, Handler, PeerCertificate, TlsInfo, Transport } from './core/handler';

// codecs
export type { Decoded, Decoder, DecoderFactory, Encoder, FrameError } from './codecs/codec';
export { fixedSizeDecoder } from './codecs/fixedSize';
export { jsonFrameDecoder, jsonFrameEncoder } from './codecs/json';
export type { JsonOptions } from './codecs/json';
export { lengthPrefixedDecoder, lengthPrefixedEncoder } from './codecs/lengthPrefixed';
export type { LengthPrefixedOptions } from './codecs/lengthPrefixed';
export { decodeIcmpEcho, encodeIcmpEcho } from './codecs/icmpEcho';
export type { IcmpEcho } from './codecs/icmpEcho';
export { decodeIPv4Packet, encodeIPv4Packet, internetChecksum } from './codecs/ipv4';
export type { IPv4Header } from './codecs/ipv4';
export { encodeProxyHeader, ProxyHeaderReader } from './codecs/proxyHeader';
export type { ProxyEndpoint, ProxyFamily, ProxyHeader, ProxyHeaderRead } from './codecs/proxyHeader';
export { linesDecoder, linesEncoder } from './codecs/lines';
export { upperBytes, upperInPlace } from './codecs/asciiUpper';
export type { LinesOptions } from './codecs/lines';
export { respDecoder } from './codecs/resp';
export { respCommandDecoder } from './codecs/respCommand';
export type { RespCommand, RespCommandOptions } from './codecs/respCommand';
export { RESP_TYPE_BYTES, respEncoder } from './codecs/respEncoder';
export { splitInline } from './codecs/respInline';
export type { FailOnError, OnError, SkipOnError } from './codecs/skipping';
export type { RespOptions } from './codecs/resp';
export type { RespValue } from './codecs/respValue';

// operators
export { backpressure } from './operators/backpressure';
export type { BackpressureOptions } from './operators/backpressure';
export { closeOnEmptyRead } from './operators/closeOnEmptyRead';
export { decode } from './operators/decode';
export type { DecodeOptions, FrameOptions } from './operators/decode';
export { dropWhileBackedUp } from './operators/dropWhileBackedUp';
export type { DropWhileBackedUpOptions } from './operators/dropWhileBackedUp';
export { eachChunk } from './operators/eachChunk';
export type { EachChunkOptions } from './operators/eachChunk';
export { encode } from './operators/encode';
export { encodeJson } from './operators/encodeJson';
export { encodeLengthPrefixed } from './operators/encodeLengthPrefixed';
export { encodeLines } from './operators/encodeLines';
export { encodeResp } from './operators/encodeResp';
export { fixedSize } from './operators/fixedSize';
export { fromAsyncGenerator } from './operators/fromAsyncGenerator';
export type { AsyncGeneratorHandler } from './operators/fromAsyncGenerator';
export { fromTransform } from './operators/fromTransform';
export { idleTimeout } from './operators/idleTimeout';
export { json } from './operators/json';
export { lengthPrefixed } from './operators/lengthPrefixed';
export { lines } from './operators/lines';
export { mergeMapBounded } from './operators/mergeMapBounded';
export { resp } from './operators/resp';
export { respCommands } from './operators/respCommands';
export { toDuplex } from './operators/toDuplex';
export type { DuplexSource, ToDuplexOptions } from './operators/toDuplex';

// transports
export type { Server } from './transports/hosting';
export type { Traffic } from './transports/traffic';
export type { AbortOptions } from './transports/lifetime';
export { sharedChannel } from './transports/pubsub/sharedChannel';
export type { SharedChannel, SharedChannelOptions } from './transports/pubsub/sharedChannel';
export type { ConnectionLimits } from './transports/stream/connection';
export { Connection } from './transports/stream/connection';
export { serve } from './transports/stream/server';
export { serveClustered } from './transports/stream/cluster';
export type { ClusteredServeOptions, ClusteredServer } from './transports/stream/cluster';
export { connect } from './transports/stream/client';
export { dial, DialedConnection } from './transports/stream/dial';
export type { DialOptions } from './transports/stream/options';
export type { ClientTlsOptions, ConnectOptions, ProxyProtocolOptions, ServeOptions, ServerTlsOptions } from './transports/stream/options';
export { DatagramConnection } from './transports/datagram/connection';
export { serveDatagrams } from './transports/datagram/server';
export type { DatagramServer } from './transports/datagram/server';
export { connectDatagram } from './transports/datagram/client';
export type { ConnectDatagramOptions, DatagramServeOptions } from './transports/datagram/options';
export { ReliableDatagramConnection } from './transports/rdm/connection';
export { serveReliableDatagrams } from './transports/rdm/server';
export type { ReliableDatagramServer } from './transports/rdm/server';
export { connectReliableDatagram } from './transports/rdm/client';
export type { ConnectReliableDatagramOptions, ReliableDatagramServeOptions } from './transports/rdm/options';
export { collectMetrics } from './transports/metrics/collect';
export type { CollectMetricsOptions, MeteredServer, ServerMetrics } from './transports/metrics/collect';
export { serveMetrics } from './transports/metrics/endpoint';
export type { MetricsEndpoint, MetricsEndpointOptions } from './transports/metrics/endpoint';
export { metrics } from './transports/metrics/metrics';
export type { MetricsOptions } from './transports/metrics/metrics';
export { rawSocket, RawSocket } from './transports/raw/socket';
export type { RawPacket, RawSocketOptions } from './transports/raw/socket';
