"""The same servers written with Python's asyncio, as a careful Python programmer writes them: for scale.

Started by bench/serverProcess.ts as `python3 asyncio_server.py PROTOCOL`; prints `listening PORT`
once listening and exits when its stdin closes (the bench went away or stopped it).
"""
import asyncio
import sys
import threading

HIGH_WATER_MARK = 64 * 1024
MAX_LINE_LENGTH = 64 * 1024
HEADER_BYTES = 2


class Upper(asyncio.Protocol):
    """Each read uppercased with bytes.upper(), written back; reads paused while output backs up."""

    def connection_made(self, transport):
        self.transport = transport
        transport.set_write_buffer_limits(high=HIGH_WATER_MARK)

    def data_received(self, data):
        self.transport.write(data.upper())

    def eof_received(self):
        # Returning None closes the transport once its output is flushed: our end follows the peer's.
        return None

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


class Lines(Upper):
    """Lines by `\\n`, uppercased, a `\\r` before `\\n` dropped; one write per read; a last unterminated line answered at EOF."""

    partial = b''

    def data_received(self, data):
        end = data.rfind(b'\n')
        if end < 0:
            self.keep(self.partial + data)
            return
        block = self.partial + data[: end + 1] if self.partial else data[: end + 1]
        self.keep(data[end + 1 :])
        out = block.upper()
        if b'\r' in out:
            out = out.replace(b'\r\n', b'\n')
        self.transport.write(out)

    def keep(self, partial):
        if len(partial) > MAX_LINE_LENGTH:
            self.transport.abort()
        self.partial = partial

    def eof_received(self):
        if self.partial:
            line = self.partial.upper()
            self.transport.write((line[:-1] if line.endswith(b'\r') else line) + b'\n')
        return None


class Frames(Upper):
    """Frames behind a 2-byte big-endian length, each payload uppercased behind its header; one write per read."""

    pending = b''

    def data_received(self, data):
        buf = self.pending + data if self.pending else data
        out = []
        at, size = 0, len(buf)
        while size - at >= HEADER_BYTES:
            end = at + HEADER_BYTES + int.from_bytes(buf[at : at + HEADER_BYTES], 'big')
            if end > size:
                break
            out.append(buf[at : at + HEADER_BYTES])
            out.append(buf[at + HEADER_BYTES : end].upper())
            at = end
        self.pending = buf[at:]
        if out:
            self.transport.write(b''.join(out))

    def eof_received(self):
        if self.pending:
            self.transport.abort()
        return None


PROTOCOLS = {'upper': Upper, 'lines': Lines, 'lengthPrefixed': Frames}


def exit_when_stdin_closes(loop):
    def watch():
        sys.stdin.buffer.read()
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=watch, daemon=True).start()


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in PROTOCOLS:
        sys.stderr.write(f"usage: asyncio_server.py {'|'.join(PROTOCOLS)}\n")
        sys.exit(2)
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(PROTOCOLS[sys.argv[1]], '127.0.0.1', 0, backlog=511))
    print(f'listening {server.sockets[0].getsockname()[1]}', flush=True)
    exit_when_stdin_closes(loop)
    loop.run_forever()


if __name__ == '__main__':
    main()
