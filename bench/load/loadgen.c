/*
 * rxwire's copy of ../shared/bench/loadgen.c (the team's yardstick), adapted for `npm run bench`:
 * the same modes, payloads and RESULT lines, plus a --frames payload (2-byte big-endian
 * length-prefixed frames, each payload uppercased, headers echoed as they are) and --proxy 1|2
 * (each connection of connect mode first sends a PROXY header, as HAProxy's send-proxy does, for
 * servers started with --proxy-protocol; the header is not echoed). Keep the rest in
 * step with the shared copy, so that both benches measure alike.
 *
 * loadgen.c - single-threaded epoll load generator for TCP "uppercase echo"
 * servers (every received byte echoed back with ASCII a-z mapped to A-Z, all
 * other bytes unchanged; on client half-close the server flushes and closes).
 *
 * Build:  gcc -O2 -o loadgen loadgen.c
 *
 * Usage:  loadgen MODE --port P [options]
 *
 * Modes (see --help for the option defaults):
 *   stream    C connections each send S bytes of a mixed payload in chunks
 *             while reading concurrently; every echoed byte is verified; then
 *             half-close and wait for EOF.             -> MB/s (MB = 2^20 B)
 *   pingpong  C connections each do R round trips of an M-byte message
 *             (write M, read M, verify).        -> round trips/s, p50/p99 us
 *   connect   K connections, at most C at a time: connect, send a tiny
 *             message, read and verify the reply, close.     -> conns/s
 *   hold      open N connections (at most C setting up at a time), one tiny
 *             verified round trip on each, print a HOLDING line, keep them
 *             open for T seconds, then close.   -> established / served
 *   slowread  1 connection writes B bytes as fast as it can while reading
 *             NOTHING for the first T seconds, then reads and verifies all.
 *             -> bytes the server accepted while not being read from
 *
 * Every mode ends with one machine-readable line on stdout:
 *   RESULT mode=... key=value ... ok=0|1
 * and exits 0 when ok=1, 1 otherwise.  Every loop is bounded by --timeout
 * (a wall-clock deadline for the whole run) and by the configured counts.
 * Only loopback addresses (127.0.0.0/8, ::1) are accepted as --host.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PLEN 1048573u           /* payload pattern period (a prime)          */
#define PAD (256u * 1024u)      /* max bytes per send/recv; pattern padding  */
#define MAXEV 512

/* ------------------------------------------------------------------ */
/* options                                                             */

static const char *o_mode;
static const char *o_host = "127.0.0.1";
static int o_port = -1;
static long o_conns = -1;        /* mode-specific default */
static uint64_t o_bytes = 0;     /* stream: per conn; slowread: total */
static uint64_t o_chunk = 64 * 1024;
static long o_rounds = 1000;
static uint64_t o_msg = 64;
static long o_count = 1000;
static double o_hold = 5.0;
static double o_pause = 5.0;
static double o_timeout = 120.0;
static uint64_t o_seed = 0x9E3779B97F4A7C15ull;
static int o_verbose = 0;
static int o_spin = 0;
static int o_lines = 0;         /* payload of text lines ('\n'-ended, no '\r') */
static int o_frames = 0;        /* payload of frames behind a 2-byte big-endian length */
static int o_proxy = 0;         /* connect: PROXY header version sent first (0: none) */

/* ------------------------------------------------------------------ */
/* globals                                                             */

static unsigned char *pat;   /* payload pattern, PLEN + PAD bytes (wraps)   */
static unsigned char *expv;  /* expected echo = uppercase(pat)              */
static unsigned char *unit;  /* --lines/--frames: 1 where a line or frame starts */
static unsigned char rbuf[PAD];
static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;
static int g_ep = -1;
static double g_t0, g_deadline;
static long g_errors = 0;
static long g_err_printed = 0;
static int g_timed_out = 0;

typedef struct conn {
    int fd;
    long id;
    int connected;
    int done;        /* fd closed (finished or failed) */
    int failed;
    int wr_shut;
    int state;       /* mode-specific */
    uint32_t ev;     /* current epoll interest */
    uint64_t base;   /* offset of this connection's stream in the pattern */
    uint64_t sent, rcvd, total;
    long round;
    double t0;
} conn_t;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    printf("RESULT mode=%s ok=0 error=usage\n", o_mode ? o_mode : "none");
    exit(2);
}

static void note_error(conn_t *c, const char *fmt, ...)
{
    g_errors++;
    if (g_err_printed < 10) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "loadgen: FAIL conn %ld: ", c ? c->id : -1L);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
    } else if (g_err_printed == 10) {
        fprintf(stderr, "loadgen: (further errors not printed)\n");
    }
    g_err_printed++;
}

/* ------------------------------------------------------------------ */
/* payload                                                             */

static uint64_t rng;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static inline unsigned char upper(unsigned char c)
{
    return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
}

/* Mixed payload: ~45% lowercase, ~20% uppercase, ~15% other printable ASCII,
 * ~20% arbitrary bytes 0..255 (so non-ASCII and control bytes occur). */
static void make_pattern(uint64_t seed)
{
    pat = malloc(PLEN + PAD);
    expv = malloc(PLEN + PAD);
    unit = calloc(PLEN, 1);
    if (!pat || !expv || !unit) die("out of memory");
    rng = seed ? seed : 1;
    if (o_lines) { /* text lines 8..120 bytes + '\n'; the period ends a line */
        static const char alpha[] = "abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-_()[]{}\"'";
        uint32_t i = 0;
        while (i < PLEN) {
            uint32_t len = 8 + (uint32_t)(rnd() % 113);
            if (i + len + 1 > PLEN || PLEN - (i + len + 1) < 9) len = PLEN - i - 1;
            for (uint32_t k = 0; k < len; k++) pat[i++] = (unsigned char)alpha[rnd() % (sizeof alpha - 1)];
            pat[i++] = '\n';
        }
        memcpy(pat + PLEN, pat, PAD);
        for (uint32_t j = 0; j < PLEN + PAD; j++) expv[j] = upper(pat[j]);
        for (uint32_t j = 0; j < PLEN; j++) unit[j] = j == 0 || pat[j - 1] == '\n';
        return;
    }
    if (o_frames) { /* frames of 8..120 mixed bytes behind their length; the period ends a frame */
        uint32_t i = 0;
        while (i < PLEN) {
            uint32_t len = 8 + (uint32_t)(rnd() % 113);
            if (i + 2 + len > PLEN || PLEN - (i + 2 + len) < 10) len = PLEN - i - 2;
            unit[i] = 1;
            pat[i] = (unsigned char)(len >> 8);
            pat[i + 1] = (unsigned char)len;
            expv[i] = pat[i];
            expv[i + 1] = pat[i + 1];
            i += 2;
            for (uint32_t k = 0; k < len; k++, i++) {
                pat[i] = (unsigned char)(rnd() >> 24);
                expv[i] = upper(pat[i]);
            }
        }
        memcpy(pat + PLEN, pat, PAD);
        memcpy(expv + PLEN, expv, PAD);
        return;
    }
    for (uint32_t i = 0; i < PLEN; i++) {
        uint64_t r = rnd();
        unsigned k = (unsigned)(r % 20), v = (unsigned)(r >> 32);
        unsigned char b;
        if (k < 9) b = (unsigned char)('a' + v % 26);
        else if (k < 13) b = (unsigned char)('A' + v % 26);
        else if (k < 16) b = (unsigned char)(32 + v % 95);
        else b = (unsigned char)(v & 0xff);
        pat[i] = b;
    }
    memcpy(pat + PLEN, pat, PAD);
    for (uint32_t i = 0; i < PLEN + PAD; i++) expv[i] = upper(pat[i]);
}

static uint64_t conn_base(long id)
{
    uint64_t b = ((uint64_t)id * 7919u * 131u + 17u) % PLEN;
    if (o_lines || o_frames) /* start a line or frame, so every connection sends whole ones */
        while (!unit[b]) b = (b + 1) % PLEN;
    return b;
}

/* stream length: with --lines or --frames, grown to end where a line or frame does */
static uint64_t whole_lines(uint64_t base, uint64_t bytes)
{
    if (o_lines || o_frames)
        while (bytes > 0 && !unit[(base + bytes) % PLEN]) bytes++;
    return bytes;
}

/* verify n received bytes that sit at stream position pos of connection c */
static int verify(conn_t *c, const unsigned char *buf, size_t n, uint64_t pos)
{
    size_t idx = (size_t)((c->base + pos) % PLEN);
    if (memcmp(buf, expv + idx, n) == 0) return 1;
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != expv[idx + i]) {
            note_error(c, "mismatch at stream byte %llu: sent 0x%02x, expected "
                       "0x%02x, got 0x%02x",
                       (unsigned long long)(pos + i), pat[idx + i],
                       expv[idx + i], buf[i]);
            break;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* sockets                                                             */

static void resolve(void)
{
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%d", o_port);
    int rc = getaddrinfo(o_host, portstr, &hints, &res);
    if (rc != 0 || !res) die("bad --host %s (numeric loopback address expected)", o_host);
    memcpy(&g_addr, res->ai_addr, res->ai_addrlen);
    g_addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    int loop = 0;
    if (g_addr.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&g_addr;
        loop = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
    } else if (g_addr.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&g_addr;
        loop = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
    }
    if (!loop) die("refusing non-loopback address %s", o_host);
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static long nofile_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    return rl.rlim_cur == RLIM_INFINITY ? 1L << 20 : (long)rl.rlim_cur;
}

/* non-blocking connect; returns fd or -1 (errno set) */
static int open_conn(void)
{
    int fd = socket(g_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&g_addr, g_addrlen) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static void ep_add(conn_t *c, uint32_t ev)
{
    struct epoll_event e;
    e.events = ev;
    e.data.ptr = c;
    if (epoll_ctl(g_ep, EPOLL_CTL_ADD, c->fd, &e) < 0) {
        perror("epoll_ctl ADD");
        exit(3);
    }
    c->ev = ev;
}

static void ep_set(conn_t *c, uint32_t ev)
{
    if (c->ev == ev || c->done) return;
    struct epoll_event e;
    e.events = ev;
    e.data.ptr = c;
    if (epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &e) < 0) {
        perror("epoll_ctl MOD");
        exit(3);
    }
    c->ev = ev;
}

static void conn_close(conn_t *c)
{
    if (c->done) return;
    close(c->fd); /* also removes it from the epoll set */
    c->fd = -1;
    c->done = 1;
}

static void conn_fail(conn_t *c, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    note_error(c, "%s", msg);
    c->failed = 1;
    conn_close(c);
}

/* --proxy: the PROXY header a load balancer would send first, from a documentation address
 * (192.0.2.1:40000) to 127.0.0.1 and the server's port. A fresh socket's buffer takes it whole. */
static int send_proxy_header(conn_t *c)
{
    static const unsigned char v2_signature[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
    unsigned char header[108];
    size_t len;
    if (o_proxy == 1) {
        len = (size_t)snprintf((char *)header, sizeof header, "PROXY TCP4 192.0.2.1 127.0.0.1 40000 %d\r\n", o_port);
    } else {
        memcpy(header, v2_signature, 12);
        header[12] = 0x21; /* version 2, PROXY */
        header[13] = 0x11; /* TCP over IPv4 */
        header[14] = 0;
        header[15] = 12;   /* addresses and ports */
        const unsigned char addresses[8] = {192, 0, 2, 1, 127, 0, 0, 1};
        memcpy(header + 16, addresses, 8);
        header[24] = 40000 >> 8;
        header[25] = 40000 & 0xff;
        header[26] = (unsigned char)(o_port >> 8);
        header[27] = (unsigned char)o_port;
        len = 28;
    }
    ssize_t n = send(c->fd, header, len, MSG_NOSIGNAL);
    if (n != (ssize_t)len) {
        conn_fail(c, "PROXY header: %s", n < 0 ? strerror(errno) : "sent in part");
        return 0;
    }
    return 1;
}

/* called on the first event of a connecting socket; 1 = connected */
static int check_connected(conn_t *c)
{
    if (c->connected) return 1;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err) {
        conn_fail(c, "connect: %s", strerror(err));
        return 0;
    }
    c->connected = 1;
    return o_proxy ? send_proxy_header(c) : 1;
}

/* milliseconds to wait in epoll_wait, bounded by the deadline and by cap */
static int wait_ms(double until, int cap)
{
    double t = now();
    double left = until - t;
    if (left <= 0) return 0;
    int ms = (int)(left * 1000.0) + 1;
    return ms > cap ? cap : ms;
}

static int ep_wait(struct epoll_event *evs, double until, int cap)
{
    /* --spin: poll without sleeping (keeps the loadgen core awake, so only
     * the server side pays the wake-up latency); still bounded by `until` */
    int n = epoll_wait(g_ep, evs, MAXEV, o_spin ? 0 : wait_ms(until, cap));
    if (n < 0) {
        if (errno == EINTR) return 0;
        perror("epoll_wait");
        exit(3);
    }
    return n;
}

/* generic writer: send the pattern from c->sent up to c->total.
 * Returns 1 when everything is sent, 0 if it would block, -1 on failure. */
static int pump_write(conn_t *c, uint64_t chunk, int max_iter)
{
    for (int k = 0; k < max_iter && c->sent < c->total; k++) {
        uint64_t len = c->total - c->sent;
        if (len > chunk) len = chunk;
        size_t idx = (size_t)((c->base + c->sent) % PLEN);
        ssize_t n = send(c->fd, pat + idx, (size_t)len, MSG_NOSIGNAL);
        if (n > 0) {
            c->sent += (uint64_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (n < 0 && errno == EINTR) continue;
        conn_fail(c, "send: %s (after %llu bytes sent)",
                  n < 0 ? strerror(errno) : "returned 0",
                  (unsigned long long)c->sent);
        return -1;
    }
    return c->sent >= c->total ? 1 : 0;
}

/* generic reader: read and verify echoed bytes (up to `want` in total).
 * With stop_at_want it returns as soon as `want` bytes are in (saves the
 * extra recv() that would only say EAGAIN; surplus bytes from a broken server
 * are still caught: by the next round's verification or the final EOF read).
 * Returns 1 on EOF, 0 if it would block / budget used, -1 on failure. */
static int pump_read(conn_t *c, uint64_t want, int max_iter, uint64_t *counter,
                     int stop_at_want)
{
    for (int k = 0; k < max_iter; k++) {
        if (stop_at_want && c->rcvd == want && want > 0) return 0;
        ssize_t n = recv(c->fd, rbuf, PAD, 0);
        if (n > 0) {
            if (c->rcvd + (uint64_t)n > want) {
                conn_fail(c, "server sent %llu bytes, more than the %llu expected",
                          (unsigned long long)(c->rcvd + (uint64_t)n),
                          (unsigned long long)want);
                return -1;
            }
            if (!verify(c, rbuf, (size_t)n, c->rcvd)) {
                c->failed = 1;
                conn_close(c);
                return -1;
            }
            c->rcvd += (uint64_t)n;
            if (counter) *counter += (uint64_t)n;
            continue;
        }
        if (n == 0) return 1;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        if (errno == EINTR) continue;
        conn_fail(c, "recv: %s (after %llu bytes received)", strerror(errno),
                  (unsigned long long)c->rcvd);
        return -1;
    }
    return 0;
}

static void timeout_note(const char *what, long pending)
{
    g_timed_out = 1;
    g_errors++;
    fprintf(stderr, "loadgen: FAIL timeout (%.1fs) in %s with %ld connection(s) "
            "unfinished\n", o_timeout, what, pending);
}

/* ------------------------------------------------------------------ */
/* mode: stream                                                        */

static int run_stream(void)
{
    long nc = o_conns > 0 ? o_conns : 1;
    uint64_t bytes = o_bytes ? o_bytes : 64ull << 20;
    conn_t *cs = calloc((size_t)nc, sizeof *cs);
    struct epoll_event evs[MAXEV];
    uint64_t echoed = 0;
    long active = 0;
    if (!cs) die("out of memory");

    double t_start = now();
    for (long i = 0; i < nc; i++) {
        conn_t *c = &cs[i];
        c->id = i;
        c->base = conn_base(i);
        c->total = whole_lines(c->base, bytes);
        c->fd = open_conn();
        if (c->fd < 0) {
            c->done = 1;
            c->failed = 1;
            note_error(c, "connect: %s", strerror(errno));
            continue;
        }
        ep_add(c, EPOLLIN | EPOLLOUT);
        active++;
    }
    while (active > 0) {
        if (now() >= g_deadline) {
            timeout_note("stream", active);
            break;
        }
        int n = ep_wait(evs, g_deadline, 1000);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            uint32_t ev = evs[i].events;
            if (c->done) continue;
            if (!check_connected(c)) {
                active--;
                continue;
            }
            if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                int r = pump_read(c, c->total, 4, &echoed, 0);
                if (r == 1) {
                    if (c->rcvd == c->total && c->sent == c->total) conn_close(c);
                    else conn_fail(c, "EOF after %llu of %llu echoed bytes (%llu sent)",
                                   (unsigned long long)c->rcvd,
                                   (unsigned long long)c->total,
                                   (unsigned long long)c->sent);
                }
            }
            if (!c->done && (ev & EPOLLOUT) && !c->wr_shut) {
                int w = pump_write(c, o_chunk, 4);
                if (w == 1) {
                    shutdown(c->fd, SHUT_WR);
                    c->wr_shut = 1;
                    ep_set(c, EPOLLIN);
                }
            }
            if (c->done) active--;
        }
    }
    double secs = now() - t_start;
    long okc = 0;
    for (long i = 0; i < nc; i++) {
        if (cs[i].done && !cs[i].failed) okc++;
        else if (!cs[i].done) conn_close(&cs[i]);
    }
    int ok = (okc == nc && g_errors == 0);
    printf("RESULT mode=stream conns=%ld bytes_per_conn=%llu bytes=%llu secs=%.4f "
           "mbps=%.1f conns_ok=%ld errors=%ld timeout=%d ok=%d\n",
           nc, (unsigned long long)bytes, (unsigned long long)echoed, secs,
           (double)echoed / 1048576.0 / secs, okc, g_errors, g_timed_out, ok);
    return ok;
}

/* ------------------------------------------------------------------ */
/* mode: pingpong                                                      */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* connect all of cs[0..nc) and wait until established; returns #connected */
static long connect_all(conn_t *cs, long nc, const char *what)
{
    struct epoll_event evs[MAXEV];
    long pending = 0, okc = 0;
    for (long i = 0; i < nc; i++) {
        conn_t *c = &cs[i];
        c->fd = open_conn();
        if (c->fd < 0) {
            c->done = 1;
            c->failed = 1;
            note_error(c, "connect: %s", strerror(errno));
            continue;
        }
        ep_add(c, EPOLLOUT);
        pending++;
    }
    while (pending > 0) {
        if (now() >= g_deadline) {
            timeout_note(what, pending);
            break;
        }
        int n = ep_wait(evs, g_deadline, 1000);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->done || c->connected) continue;
            pending--;
            if (check_connected(c)) {
                okc++;
                ep_set(c, 0);
            }
        }
    }
    return okc;
}

/* start one pingpong round: send M bytes at pattern position round*M */
static void pp_send(conn_t *c, uint64_t m)
{
    c->sent = 0;
    c->rcvd = 0;
    c->total = m;
    c->base = (conn_base(c->id) + (uint64_t)c->round * m) % PLEN;
    c->t0 = now();
    int w = pump_write(c, PAD, 16);
    if (w < 0) return;
    ep_set(c, w == 1 ? EPOLLIN : (EPOLLIN | EPOLLOUT));
}

static int run_pingpong(void)
{
    long nc = o_conns > 0 ? o_conns : 1;
    long rounds = o_rounds;
    uint64_t m = o_msg;
    if (m == 0 || m > PAD) die("--msg must be 1..%u", PAD);
    if (rounds < 1) die("--rounds must be >= 1");
    if ((double)nc * (double)rounds > 50e6) die("conns*rounds too large (max 5e7)");
    conn_t *cs = calloc((size_t)nc, sizeof *cs);
    float *lat = malloc(sizeof(float) * (size_t)nc * (size_t)rounds);
    struct epoll_event evs[MAXEV];
    if (!cs || !lat) die("out of memory");
    for (long i = 0; i < nc; i++) cs[i].id = i;

    long connected = connect_all(cs, nc, "pingpong connect");
    long nlat = 0, active = 0;
    double t_start = now(), t_last = t_start;
    if (connected == nc) {
        for (long i = 0; i < nc; i++) {
            if (cs[i].done) continue;
            active++;
            pp_send(&cs[i], m);
            if (cs[i].done) active--;
        }
    }
    while (active > 0) {
        if (now() >= g_deadline) {
            timeout_note("pingpong", active);
            break;
        }
        int n = ep_wait(evs, g_deadline, 1000);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            uint32_t ev = evs[i].events;
            if (c->done) continue;
            if ((ev & EPOLLOUT) && c->state == 0 && c->sent < c->total) {
                int w = pump_write(c, PAD, 16);
                if (w == 1) ep_set(c, EPOLLIN);
            }
            if (!c->done && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                if (c->state == 1) { /* all rounds done, half-closed: expect EOF */
                    int r = pump_read(c, 0, 4, NULL, 0);
                    if (r == 1) conn_close(c);
                } else {
                    int r = pump_read(c, c->total, 4, NULL, 1);
                    if (r == 1) {
                        conn_fail(c, "EOF in round %ld after %llu of %llu bytes",
                                  c->round, (unsigned long long)c->rcvd,
                                  (unsigned long long)c->total);
                    } else if (r == 0 && c->rcvd == c->total && c->sent == c->total) {
                        double t = now();
                        lat[nlat++] = (float)((t - c->t0) * 1e6);
                        t_last = t;
                        c->round++;
                        if (c->round < rounds) {
                            pp_send(c, m);
                        } else {
                            c->state = 1;
                            c->rcvd = 0;
                            shutdown(c->fd, SHUT_WR);
                            c->wr_shut = 1;
                            ep_set(c, EPOLLIN);
                        }
                    }
                }
            }
            if (c->done) active--;
        }
    }
    long okc = 0;
    for (long i = 0; i < nc; i++) {
        if (cs[i].done && !cs[i].failed && cs[i].round == rounds) okc++;
        else if (!cs[i].done) conn_close(&cs[i]);
    }
    double secs = t_last - t_start;
    double p50 = 0, p99 = 0, pmax = 0;
    if (nlat > 0) {
        qsort(lat, (size_t)nlat, sizeof(float), cmp_float);
        long i50 = (long)(0.50 * (double)nlat + 0.999999) - 1;
        long i99 = (long)(0.99 * (double)nlat + 0.999999) - 1;
        if (i50 < 0) i50 = 0;
        if (i99 < 0) i99 = 0;
        p50 = lat[i50];
        p99 = lat[i99];
        pmax = lat[nlat - 1];
    }
    int ok = (okc == nc && g_errors == 0);
    printf("RESULT mode=pingpong conns=%ld rounds=%ld msg=%llu roundtrips=%ld "
           "secs=%.4f rtps=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f conns_ok=%ld "
           "errors=%ld timeout=%d ok=%d\n",
           nc, rounds, (unsigned long long)m, nlat, secs,
           secs > 0 ? (double)nlat / secs : 0.0, p50, p99, pmax, okc, g_errors,
           g_timed_out, ok);
    return ok;
}

/* ------------------------------------------------------------------ */
/* mode: connect                                                       */

#define TINY 16

static int start_tiny(conn_t *c, long id)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    c->base = conn_base(id);
    c->total = TINY;
    c->t0 = now();
    c->fd = open_conn();
    if (c->fd < 0) {
        c->done = 1;
        c->failed = 1;
        note_error(c, "connect: %s", strerror(errno));
        return -1;
    }
    ep_add(c, EPOLLOUT);
    return 0;
}

/* drive a tiny round trip (connect, send TINY bytes, read TINY bytes).
 * Returns 1 when the reply is complete, 0 in progress, -1 failed. */
static int step_tiny(conn_t *c, uint32_t ev)
{
    if (!check_connected(c)) return -1;
    if ((ev & EPOLLOUT) && c->sent < c->total) {
        int w = pump_write(c, PAD, 4);
        if (w < 0) return -1;
        if (w == 1) ep_set(c, EPOLLIN);
    }
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        int r = pump_read(c, c->total, 4, NULL, 1);
        if (r < 0) return -1;
        if (c->rcvd == c->total && c->sent == c->total) return 1;
        if (r == 1) {
            conn_fail(c, "EOF after %llu of %llu reply bytes",
                      (unsigned long long)c->rcvd, (unsigned long long)c->total);
            return -1;
        }
    }
    return 0;
}

static int run_connect(void)
{
    long total = o_count;
    long conc = o_conns > 0 ? o_conns : 50;
    if (conc > total) conc = total;
    conn_t *pool = calloc((size_t)conc, sizeof *pool);
    conn_t **freel = calloc((size_t)conc, sizeof *freel);
    struct epoll_event evs[MAXEV];
    long nfree = 0, started = 0, okc = 0, failc = 0, inflight = 0;
    if (!pool || !freel) die("out of memory");
    for (long i = 0; i < conc; i++) freel[nfree++] = &pool[i];

    double t_start = now();
    while (okc + failc < total) {
        while (nfree > 0 && started < total) {
            conn_t *c = freel[--nfree];
            if (start_tiny(c, started++) < 0) {
                failc++;
                freel[nfree++] = c;
            } else {
                inflight++;
            }
        }
        if (okc + failc >= total) break;
        if (now() >= g_deadline) {
            timeout_note("connect", inflight);
            break;
        }
        int n = ep_wait(evs, g_deadline, 1000);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->done) continue;
            int r = step_tiny(c, evs[i].events);
            if (r == 1) {
                conn_close(c);
                okc++;
            } else if (r < 0) {
                conn_close(c);
                failc++;
            }
            if (r != 0) {
                inflight--;
                freel[nfree++] = c;
            }
        }
    }
    double secs = now() - t_start;
    for (long i = 0; i < conc; i++)
        if (!pool[i].done && pool[i].fd > 0) conn_close(&pool[i]);
    int ok = (okc == total && g_errors == 0);
    printf("RESULT mode=connect count=%ld concurrency=%ld conns_ok=%ld failed=%ld "
           "secs=%.4f cps=%.1f errors=%ld timeout=%d ok=%d\n",
           total, conc, okc, failc, secs, secs > 0 ? (double)okc / secs : 0.0,
           g_errors, g_timed_out, ok);
    return ok;
}

/* ------------------------------------------------------------------ */
/* mode: hold                                                          */

static int run_hold(void)
{
    long total = o_conns > 0 ? o_conns : 10000;
    long conc = 100; /* connections being set up at once */
    const char *e = getenv("LOADGEN_HOLD_CONC");
    if (e && atol(e) > 0) conc = atol(e);
    raise_nofile();
    long lim = nofile_limit();
    if (lim < total + 16)
        fprintf(stderr, "loadgen: warning: RLIMIT_NOFILE is %ld, cannot hold %ld "
                "connections\n", lim, total);
    conn_t *cs = calloc((size_t)total, sizeof *cs);
    struct epoll_event evs[MAXEV];
    long started = 0, established = 0, served = 0, failc = 0, inflight = 0;
    long dropped = 0, unexpected = 0;
    int stop_launch = 0;
    if (!cs) die("out of memory");

    double t_start = now();
    double setup_deadline = g_deadline - o_hold;
    if (setup_deadline < t_start) setup_deadline = t_start;
    /* phase 1: set up and serve one tiny round trip on every connection */
    while (served + failc < total) {
        while (!stop_launch && inflight < conc && started < total) {
            conn_t *c = &cs[started];
            if (start_tiny(c, started) < 0) {
                failc++;
                if (errno == EMFILE || errno == ENFILE) stop_launch = 1;
            } else {
                inflight++;
            }
            started++;
        }
        if (stop_launch) failc += total - started, started = total;
        if (served + failc >= total) break;
        if (now() >= setup_deadline) {
            timeout_note("hold setup", inflight);
            break;
        }
        int n = ep_wait(evs, setup_deadline, 1000);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->done) continue;
            if (c->state == 1) { /* already served and idle: server closed it? */
                ssize_t r = recv(c->fd, rbuf, sizeof rbuf, 0);
                if (r > 0) {
                    unexpected++;
                    conn_fail(c, "unexpected %zd bytes on idle connection", r);
                } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    dropped++;
                    conn_fail(c, "server closed an idle connection");
                }
                continue;
            }
            int was = c->connected;
            int r = step_tiny(c, evs[i].events);
            if (!was && c->connected) established++;
            if (r == 1) {
                served++;
                inflight--;
                c->state = 1;
                ep_set(c, EPOLLIN);
            } else if (r < 0) {
                conn_close(c);
                failc++;
                inflight--;
            }
        }
    }
    double setup_secs = now() - t_start;
    printf("HOLDING established=%ld served=%ld setup_secs=%.3f\n", established,
           served, setup_secs);
    fflush(stdout);

    /* phase 2: hold everything open for o_hold seconds, watching for closes */
    double hold_end = now() + o_hold;
    if (hold_end > g_deadline) hold_end = g_deadline;
    while (now() < hold_end) {
        int n = ep_wait(evs, hold_end, 1000);
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->done) continue;
            ssize_t r = recv(c->fd, rbuf, sizeof rbuf, 0);
            if (r > 0) {
                unexpected++;
                conn_fail(c, "unexpected %zd bytes on idle connection", r);
            } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                dropped++;
                conn_fail(c, "server closed an idle connection");
            } else {
                ep_set(c, 0); /* in-flight setup that never finished */
            }
        }
    }
    long open_at_end = 0;
    for (long i = 0; i < total; i++) {
        if (!cs[i].done && cs[i].fd > 0) {
            if (cs[i].state == 1) open_at_end++;
            conn_close(&cs[i]);
        }
    }
    int ok = (served == total && dropped == 0 && unexpected == 0 && g_errors == 0);
    printf("RESULT mode=hold conns=%ld established=%ld served=%ld held_to_end=%ld "
           "dropped=%ld failed=%ld setup_secs=%.3f hold_secs=%.1f nofile=%ld "
           "errors=%ld timeout=%d ok=%d\n",
           total, established, served, open_at_end, dropped, failc, setup_secs,
           o_hold, lim, g_errors, g_timed_out, ok);
    return ok;
}

/* ------------------------------------------------------------------ */
/* mode: slowread                                                      */

static int run_slowread(void)
{
    uint64_t bytes = o_bytes ? o_bytes : 512ull << 20;
    conn_t cc, *c = &cc;
    struct epoll_event evs[MAXEV];
    uint64_t echoed = 0, written_pause = 0;
    memset(c, 0, sizeof *c);
    c->base = conn_base(0);
    c->total = bytes;
    connect_all(c, 1, "slowread connect");
    double t_start = now();
    double pause_end = t_start + o_pause;
    int paused = 1;
    if (!c->done && c->connected) ep_set(c, EPOLLOUT);
    while (!c->done) {
        double t = now();
        if (t >= g_deadline) {
            timeout_note("slowread", 1);
            break;
        }
        if (paused && t >= pause_end) {
            paused = 0;
            written_pause = c->sent;
            ep_set(c, c->wr_shut ? EPOLLIN : (EPOLLIN | EPOLLOUT));
            if (o_verbose) fprintf(stderr, "loadgen: pause over, %llu bytes written\n",
                                   (unsigned long long)written_pause);
        }
        int n = ep_wait(evs, paused ? pause_end : g_deadline, 1000);
        for (int i = 0; i < n && !c->done; i++) {
            uint32_t ev = evs[i].events;
            if (!paused && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                int r = pump_read(c, c->total, 8, &echoed, 0);
                if (r == 1) {
                    if (c->rcvd == c->total && c->sent == c->total) conn_close(c);
                    else conn_fail(c, "EOF after %llu of %llu echoed bytes",
                                   (unsigned long long)c->rcvd,
                                   (unsigned long long)c->total);
                }
            } else if (paused && (ev & EPOLLERR)) {
                conn_fail(c, "socket error while not reading");
            } else if (paused && (ev & EPOLLHUP)) {
                pause_end = now(); /* hung up: stop pausing, read what is left */
            }
            if (!c->done && (ev & EPOLLOUT) && !c->wr_shut) {
                int w = pump_write(c, o_chunk, 8);
                if (w == 1) {
                    shutdown(c->fd, SHUT_WR);
                    c->wr_shut = 1;
                    ep_set(c, paused ? 0 : EPOLLIN);
                }
            }
        }
    }
    if (paused) written_pause = c->sent;
    double secs = now() - t_start;
    int okc = c->done && !c->failed;
    if (!c->done) conn_close(c);
    int ok = okc && g_errors == 0;
    printf("RESULT mode=slowread bytes=%llu pause_secs=%.1f written_during_pause=%llu "
           "paused_mb=%.1f echoed=%llu secs=%.3f errors=%ld timeout=%d ok=%d\n",
           (unsigned long long)bytes, o_pause, (unsigned long long)written_pause,
           (double)written_pause / 1048576.0, (unsigned long long)echoed, secs,
           g_errors, g_timed_out, ok);
    return ok;
}

/* ------------------------------------------------------------------ */
/* main                                                                */

static uint64_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0) die("bad size '%s'", s);
    switch (*end) {
    case 'k': case 'K': v *= 1024.0; end++; break;
    case 'm': case 'M': v *= 1048576.0; end++; break;
    case 'g': case 'G': v *= 1073741824.0; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b') end++;
    if (*end) die("bad size '%s'", s);
    return (uint64_t)v;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen MODE --port P [options]\n"
            "modes: stream | pingpong | connect | hold | slowread\n"
            "  --host ADDR     loopback address (default 127.0.0.1; ::1 ok)\n"
            "  --port P        server port (required)\n"
            "  --timeout SECS  wall-clock limit for the whole run (default 120)\n"
            "  --seed N        payload seed\n"
            "  --spin          busy-poll epoll (never sleep) - lower latency\n"
            "  --lines         payload of text lines (8-120 bytes, '\\n'-ended, no '\\r'),\n"
            "                  for line-framed servers that answer each line uppercased\n"
            "  --frames        payload of frames behind a 2-byte big-endian length (8-120 bytes),\n"
            "                  for servers that answer each frame's payload uppercased\n"
            "  --proxy 1|2     connect: each connection first sends a PROXY header of that version\n"
            " stream:   --conns C (1) --bytes S per conn (64M) --chunk N (64K)\n"
            " pingpong: --conns C (1) --rounds R (1000) --msg M bytes (64)\n"
            " connect:  --count K (1000) --conns C concurrency (50)\n"
            " hold:     --conns N (10000) --hold T seconds (5)\n"
            "           (LOADGEN_HOLD_CONC env: setups in flight, default 100)\n"
            " slowread: --bytes B total (512M) --pause T seconds (5) --chunk N\n"
            "sizes accept K/M/G suffixes (binary).\n");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage();
        return 2;
    }
    o_mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) die("%s needs a value", a); i++; } while (0)
        if (!strcmp(a, "--host")) { NEEDV(); o_host = v; }
        else if (!strcmp(a, "--port")) { NEEDV(); o_port = atoi(v); }
        else if (!strcmp(a, "--conns")) { NEEDV(); o_conns = atol(v); }
        else if (!strcmp(a, "--bytes")) { NEEDV(); o_bytes = parse_size(v); }
        else if (!strcmp(a, "--chunk")) { NEEDV(); o_chunk = parse_size(v); }
        else if (!strcmp(a, "--rounds")) { NEEDV(); o_rounds = atol(v); }
        else if (!strcmp(a, "--msg")) { NEEDV(); o_msg = parse_size(v); }
        else if (!strcmp(a, "--count")) { NEEDV(); o_count = atol(v); }
        else if (!strcmp(a, "--hold")) { NEEDV(); o_hold = atof(v); }
        else if (!strcmp(a, "--pause")) { NEEDV(); o_pause = atof(v); }
        else if (!strcmp(a, "--timeout")) { NEEDV(); o_timeout = atof(v); }
        else if (!strcmp(a, "--seed")) { NEEDV(); o_seed = strtoull(v, NULL, 0); }
        else if (!strcmp(a, "-v")) o_verbose = 1;
        else if (!strcmp(a, "--spin")) o_spin = 1;
        else if (!strcmp(a, "--lines")) o_lines = 1;
        else if (!strcmp(a, "--frames")) o_frames = 1;
        else if (!strcmp(a, "--proxy")) { NEEDV(); o_proxy = atoi(v); }
        else { usage(); die("unknown option %s", a); }
#undef NEEDV
    }
    if (o_port <= 0 || o_port > 65535) die("--port 1..65535 required");
    if (o_chunk == 0 || o_chunk > PAD) die("--chunk must be 1..%u", PAD);
    if (o_timeout <= 0 || o_timeout > 3600) die("--timeout must be in (0, 3600]");
    if (o_hold < 0 || o_hold > 3600 || o_pause < 0 || o_pause > 3600)
        die("--hold/--pause must be in [0, 3600]");
    if (o_count < 1 || o_count > 10000000) die("--count must be 1..1e7");
    if (o_lines && o_frames) die("--lines and --frames exclude each other");
    if (o_proxy != 0 && o_proxy != 1 && o_proxy != 2) die("--proxy must be 1 or 2");
    if (o_proxy && strcmp(o_mode, "connect")) die("--proxy is for connect mode");
    if ((o_lines || o_frames) && strcmp(o_mode, "stream"))
        die("--lines and --frames are for stream mode (whole lines or frames per connection)");
    if (o_conns > 1000000) die("--conns too large");
    resolve();
    make_pattern(o_seed);
    raise_nofile();
    g_ep = epoll_create1(EPOLL_CLOEXEC);
    if (g_ep < 0) {
        perror("epoll_create1");
        return 3;
    }
    g_t0 = now();
    g_deadline = g_t0 + o_timeout;

    int ok;
    if (!strcmp(o_mode, "stream")) ok = run_stream();
    else if (!strcmp(o_mode, "pingpong")) ok = run_pingpong();
    else if (!strcmp(o_mode, "connect")) ok = run_connect();
    else if (!strcmp(o_mode, "hold")) ok = run_hold();
    else if (!strcmp(o_mode, "slowread")) ok = run_slowread();
    else {
        usage();
        die("unknown mode %s", o_mode);
        return 2;
    }
    if (!ok) fprintf(stderr, "loadgen: FAIL (%s)\n", o_mode);
    return ok ? 0 : 1;
}
