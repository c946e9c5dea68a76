// The WebSocket load generator of `npm run bench:ws` (bench/ws.ts compiles it
// with `cc -O2`). One thread, epoll, non-blocking sockets to 127.0.0.1, masked
// client frames (RFC 6455 §5.3; the mask key is drawn once per connection and
// its masked frame reused), and its own CPU time reported so that a run can
// show the client was not the limit.
//
//   ws-client echo   PORT CONNECTIONS SIZE DEPTH WARMUP_S SECONDS
//       each connection keeps DEPTH binary messages of SIZE bytes in flight
//       to /echo; every echo is checked byte for byte and answered with the
//       next message (the answers to the echoes of one read leave in one write).
//   ws-client idle   PORT CONNECTIONS CONCURRENCY
//       opens CONNECTIONS to /idle (CONCURRENCY handshakes at a time), prints
//       "open <ms>", then holds them until killed.
//   ws-client pubsub PORT SUBSCRIBERS SIZE WINDOW WARMUP_S SECONDS
//       SUBSCRIBERS connections to /sub, one to /pub; the publisher keeps at
//       most WINDOW publishes undelivered (counted over all subscribers);
//       every payload starts with its sequence number, for the latency.
//
// Lines on stdout: "ready", "start" and "end" (the measured window), then
// "result key=value ...". Latencies are from the moment a message is handed
// to write() to the moment its echo (or delivery) is complete.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { CONNECTING, HANDSHAKE, OPEN, DEAD };
enum { MODE_ECHO, MODE_IDLE, MODE_PUBSUB };
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define HIST_US 2000000 /* latencies up to 2 s at 1 µs; longer ones count in the last bucket */
#define SEQ_RING 65536

typedef struct {
  int fd;
  int state;
  int role;             /* 0 echo/idle/sub, 1 publisher */
  char *hs;             /* handshake response so far (freed once open) */
  int hs_len;
  /* frame being read */
  uint8_t hdr[14];
  int hdr_have, hdr_need;
  uint64_t plen, poff;
  uint8_t opcode;
  uint8_t seq[8];
  /* output: tx holds `depth` copies of this connection's masked frame */
  uint8_t *tx;
  uint64_t tx_frames, tx_off;
  int want_out;
  /* send times of the messages in flight (echo), a ring of `depth` */
  uint64_t *sent;
  uint32_t sent_head, sent_count;
} conn_t;

static int mode, port, nconn, depth = 1, concurrency = 100;
static uint64_t size, window_n;
static double warmup_s, seconds;
static int ep;
static conn_t *conns;
static uint8_t *payload;   /* the unmasked payload every echo must return */
static uint64_t frame_len; /* header + payload of one client frame */
static int hdr_len_client;
static uint32_t *hist;
static uint64_t hist_n;
static int measuring;
static uint64_t messages, errors, mismatches, opened, handshaking, next_to_open;
static uint64_t published, delivered_total;
static uint64_t seq_sent_at[SEQ_RING];
static char request[512];
static int request_len;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static uint32_t rng = 2463534242u;
static uint32_t xorshift(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

static void set_events(conn_t *c, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl mod");
}

static void kill_conn(conn_t *c) {
  if (c->state == DEAD) return;
  if (c->state == CONNECTING || c->state == HANDSHAKE) handshaking--;
  c->state = DEAD;
  errors++;
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
}

static void start_connect(conn_t *c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c->fd = fd;
  c->state = CONNECTING;
  c->hdr_need = 2;
  handshaking++;
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl add");
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 && errno != EINPROGRESS) kill_conn(c);
}

/** The frame this connection sends, masked with its own key, `copies` times back to back. */
static void build_tx(conn_t *c, uint64_t copies) {
  c->tx = malloc(frame_len * copies);
  if (c->tx == NULL) die("malloc");
  uint8_t *f = c->tx;
  f[0] = 0x82; /* FIN, binary */
  int h;
  if (size < 126) { f[1] = 0x80 | size; h = 2; }
  else if (size < 65536) { f[1] = 0x80 | 126; f[2] = size >> 8; f[3] = size & 0xff; h = 4; }
  else { f[1] = 0x80 | 127; for (int i = 0; i < 8; i++) f[2 + i] = (uint8_t)(size >> (56 - 8 * i)); h = 10; }
  uint32_t key = xorshift();
  memcpy(f + h, &key, 4);
  h += 4;
  const uint8_t *k = f + h - 4;
  for (uint64_t i = 0; i < size; i++) f[h + i] = payload[i] ^ k[i & 3];
  for (uint64_t i = 1; i < copies; i++) memcpy(c->tx + i * frame_len, c->tx, frame_len);
}

/** Writes what is queued; asks for EPOLLOUT when the kernel takes less. */
static void flush(conn_t *c) {
  while (c->tx_frames > 0) {
    ssize_t n = write(c->fd, c->tx + c->tx_off, c->tx_frames * frame_len - c->tx_off);
    if (n < 0) {
      if (errno == EAGAIN) break;
      kill_conn(c);
      return;
    }
    c->tx_off += n;
    c->tx_frames -= c->tx_off / frame_len;
    c->tx_off %= frame_len;
  }
  int want = c->tx_frames > 0;
  if (want != c->want_out) {
    c->want_out = want;
    set_events(c, EPOLLIN | (want ? EPOLLOUT : 0));
  }
}

static void record(uint64_t latency_ns) {
  uint64_t us = latency_ns / 1000;
  hist[us < HIST_US ? us : HIST_US - 1]++;
  hist_n++;
}

/** Queues `n` more messages on an echo connection. */
static void send_echo(conn_t *c, uint64_t n, uint64_t t) {
  for (uint64_t i = 0; i < n; i++) {
    c->sent[(c->sent_head + c->sent_count) % depth] = t;
    c->sent_count++;
  }
  c->tx_frames += n; /* written by the caller's flush(), once per read: a batch of echoes is answered in one write */
}

static conn_t *publisher;

/** The publisher sends as many publishes as the window allows, in one write. */
static void publish_more(uint64_t t) {
  conn_t *c = publisher;
  if (c == NULL || c->state != OPEN) return;
  uint64_t subs = (uint64_t)nconn;
  uint64_t outstanding = published - delivered_total / subs;
  if (outstanding >= window_n || c->tx_frames > 0) return;
  uint64_t n = window_n - outstanding;
  /* Each publish carries its sequence number in its first 8 bytes (masked with the frame's key). */
  const uint8_t *k = c->tx + hdr_len_client - 4;
  for (uint64_t i = 0; i < n; i++) {
    uint8_t *f = c->tx + i * frame_len;
    uint64_t seq = published + i;
    for (int b = 0; b < 8 && (uint64_t)b < size; b++) f[hdr_len_client + b] = (uint8_t)(seq >> (8 * b)) ^ k[b & 3];
    seq_sent_at[seq % SEQ_RING] = t;
  }
  published += n;
  c->tx_frames = n;
  c->tx_off = 0;
  flush(c);
}

static void on_message(conn_t *c) {
  uint64_t t = now_ns();
  if (mode == MODE_ECHO) {
    if (c->sent_count == 0) { errors++; return; }
    uint64_t sent = c->sent[c->sent_head];
    c->sent_head = (c->sent_head + 1) % depth;
    c->sent_count--;
    if (measuring) {
      messages++;
      record(t - sent);
    }
    send_echo(c, 1, t);
  } else if (mode == MODE_PUBSUB) {
    uint64_t seq = 0;
    for (int b = 0; b < 8 && (uint64_t)b < size; b++) seq |= (uint64_t)c->seq[b] << (8 * b);
    delivered_total++;
    if (measuring) {
      messages++;
      if (published - seq < SEQ_RING) record(t - seq_sent_at[seq % SEQ_RING]);
    }
  }
}

/** Reads frames out of bytes that arrived on an open connection. */
static void feed(conn_t *c, const uint8_t *p, size_t n) {
  while (n > 0) {
    if (c->hdr_have < c->hdr_need) {
      size_t take = c->hdr_need - c->hdr_have;
      if (take > n) take = n;
      memcpy(c->hdr + c->hdr_have, p, take);
      c->hdr_have += take;
      p += take;
      n -= take;
      if (c->hdr_have < c->hdr_need) return;
      if (c->hdr_need == 2) {
        if (c->hdr[1] & 0x80) { kill_conn(c); return; } /* a server never masks */
        int len7 = c->hdr[1] & 0x7f;
        c->hdr_need = len7 == 126 ? 4 : len7 == 127 ? 10 : 2;
        if (c->hdr_have < c->hdr_need) continue;
      }
      int len7 = c->hdr[1] & 0x7f;
      c->opcode = c->hdr[0] & 0x0f;
      if (len7 < 126) c->plen = len7;
      else if (len7 == 126) c->plen = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
      else { c->plen = 0; for (int i = 0; i < 8; i++) c->plen = c->plen << 8 | c->hdr[2 + i]; }
      c->poff = 0;
      if (c->opcode == 0x8) { kill_conn(c); return; } /* a close frame: the server gave up on us */
      if ((c->opcode == 0x1 || c->opcode == 0x2) && c->plen != size) mismatches++;
    } else {
      uint64_t take = c->plen - c->poff;
      if (take > n) take = n;
      if (c->opcode == 0x1 || c->opcode == 0x2) {
        if (mode == MODE_ECHO) {
          if (c->poff + take <= size && memcmp(p, payload + c->poff, take) != 0) mismatches++;
        } else {
          for (uint64_t i = c->poff; i < 8 && i < c->poff + take; i++) c->seq[i] = p[i - c->poff];
        }
      }
      c->poff += take;
      p += take;
      n -= take;
    }
    if (c->hdr_have == c->hdr_need && c->poff == c->plen) {
      uint8_t op = c->opcode;
      c->hdr_have = 0;
      c->hdr_need = 2;
      if (op == 0x1 || op == 0x2) on_message(c);
      if (c->state == DEAD) return;
    }
  }
}

static uint8_t rbuf[1 << 18];

static void on_open(conn_t *c) {
  handshaking--;
  opened++;
  c->state = OPEN;
  c->hdr_need = 2;
  set_events(c, EPOLLIN);
}

static void on_event(conn_t *c, uint32_t events) {
  if (c->state == CONNECTING) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) { kill_conn(c); return; }
    if (write(c->fd, request, request_len) != request_len) { kill_conn(c); return; }
    c->state = HANDSHAKE;
    c->hs = malloc(2048);
    c->hs_len = 0;
    set_events(c, EPOLLIN);
    return;
  }
  if (c->state == HANDSHAKE) {
    ssize_t n = read(c->fd, c->hs + c->hs_len, 2047 - c->hs_len);
    if (n <= 0) {
      if (n < 0 && errno == EAGAIN) return;
      kill_conn(c);
      return;
    }
    c->hs_len += n;
    c->hs[c->hs_len] = 0;
    char *end = strstr(c->hs, "\r\n\r\n");
    if (end == NULL) {
      if (c->hs_len >= 2047) kill_conn(c);
      return;
    }
    if (strncmp(c->hs, "HTTP/1.1 101", 12) != 0 || strstr(c->hs, ACCEPT) == NULL) {
      fprintf(stderr, "handshake refused:\n%s\n", c->hs);
      kill_conn(c);
      return;
    }
    size_t rest = c->hs + c->hs_len - (end + 4);
    uint8_t extra[2048];
    memcpy(extra, end + 4, rest);
    free(c->hs);
    c->hs = NULL;
    on_open(c);
    if (rest > 0) feed(c, extra, rest);
    if (c->state == OPEN && c->tx_frames > 0) flush(c);
    return;
  }
  if (c->state != OPEN) return;
  if (events & EPOLLIN) {
    for (;;) {
      ssize_t n = read(c->fd, rbuf, sizeof rbuf);
      if (n < 0) {
        if (errno == EAGAIN) break;
        kill_conn(c);
        return;
      }
      if (n == 0) { kill_conn(c); return; }
      feed(c, rbuf, n);
      if (c->state != OPEN || (size_t)n < sizeof rbuf) break;
    }
    if (c->state == OPEN && c->tx_frames > 0 && !c->want_out) flush(c);
  }
  if (c->state == OPEN && (events & EPOLLOUT)) flush(c);
  if (c->state == OPEN && (events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN)) kill_conn(c);
}

static double percentile(double p) {
  if (hist_n == 0) return 0;
  uint64_t want = (uint64_t)(p * hist_n);
  if (want >= hist_n) want = hist_n - 1;
  uint64_t seen = 0;
  for (int i = 0; i < HIST_US; i++) {
    seen += hist[i];
    if (seen > want) return i + 0.5;
  }
  return HIST_US;
}

static void usage(void) {
  fprintf(stderr, "usage: ws-client echo PORT CONNECTIONS SIZE DEPTH WARMUP_S SECONDS\n"
                  "       ws-client idle PORT CONNECTIONS CONCURRENCY\n"
                  "       ws-client pubsub PORT SUBSCRIBERS SIZE WINDOW WARMUP_S SECONDS\n");
  exit(2);
}

/** Opens connections, at most `concurrency` handshaking at a time, until all are open (or dead). */
static void open_all(int total) {
  struct epoll_event events[512];
  while (opened + errors < (uint64_t)total) {
    while (next_to_open < (uint64_t)total && handshaking < (uint64_t)concurrency) start_connect(&conns[next_to_open++]);
    int n = epoll_wait(ep, events, 512, 1000);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) on_event(events[i].data.ptr, events[i].events);
  }
}

int main(int argc, char **argv) {
  if (argc < 5) usage();
  signal(SIGPIPE, SIG_IGN);
  const char *path;
  if (strcmp(argv[1], "echo") == 0 && argc == 8) {
    mode = MODE_ECHO;
    path = "/echo";
    size = strtoull(argv[4], NULL, 10);
    depth = atoi(argv[5]);
    warmup_s = atof(argv[6]);
    seconds = atof(argv[7]);
  } else if (strcmp(argv[1], "idle") == 0 && argc == 5) {
    mode = MODE_IDLE;
    path = "/idle";
    concurrency = atoi(argv[4]);
  } else if (strcmp(argv[1], "pubsub") == 0 && argc == 8) {
    mode = MODE_PUBSUB;
    path = "/sub";
    size = strtoull(argv[4], NULL, 10);
    window_n = strtoull(argv[5], NULL, 10);
    warmup_s = atof(argv[6]);
    seconds = atof(argv[7]);
    if (size < 8) { fprintf(stderr, "pubsub messages carry an 8-byte sequence number: SIZE >= 8\n"); exit(2); }
  } else {
    usage();
  }
  port = atoi(argv[2]);
  nconn = atoi(argv[3]);
  if (depth < 1 || nconn < 1) usage();
  rng ^= (uint32_t)getpid() * 2654435761u;

  payload = malloc(size + 1);
  for (uint64_t i = 0; i < size; i++) payload[i] = (uint8_t)(xorshift() & 0xff);
  hdr_len_client = (size < 126 ? 2 : size < 65536 ? 4 : 10) + 4;
  frame_len = hdr_len_client + size;
  hist = calloc(HIST_US, sizeof *hist);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  int total = nconn + (mode == MODE_PUBSUB ? 1 : 0);
  conns = calloc(total, sizeof *conns);

  uint64_t t0 = now_ns();
  request_len = snprintf(request, sizeof request,
                         "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                         "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                         path, port);
  open_all(nconn);
  if (mode == MODE_PUBSUB) {
    /* The publisher last, once every subscriber is in. */
    request_len = snprintf(request, sizeof request,
                           "GET /pub HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                           port);
    open_all(total);
  }
  double open_ms = (now_ns() - t0) / 1e6;
  if (errors > 0) {
    fprintf(stderr, "%llu of %d connections failed to open\n", (unsigned long long)errors, total);
    printf("result failed=%llu\n", (unsigned long long)errors);
    return 1;
  }
  printf("ready\n");
  if (mode == MODE_IDLE) {
    printf("open %.0f\n", open_ms);
    fflush(stdout);
    struct epoll_event events[512];
    for (;;) {
      int n = epoll_wait(ep, events, 512, -1);
      for (int i = 0; i < n; i++) on_event(events[i].data.ptr, events[i].events);
    }
  }
  fflush(stdout);

  uint64_t t = now_ns();
  if (mode == MODE_ECHO) {
    for (int i = 0; i < nconn; i++) {
      conn_t *c = &conns[i];
      build_tx(c, depth);
      c->sent = calloc(depth, sizeof *c->sent);
      send_echo(c, depth, t);
      flush(c);
    }
  } else {
    publisher = &conns[nconn];
    publisher->role = 1;
    build_tx(publisher, window_n);
    publish_more(t);
  }

  uint64_t warm_end = t + (uint64_t)(warmup_s * 1e9);
  uint64_t end = warm_end + (uint64_t)(seconds * 1e9);
  uint64_t started = 0;
  double cpu0 = 0;
  struct epoll_event events[1024];
  for (;;) {
    int n = epoll_wait(ep, events, 1024, 5);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) on_event(events[i].data.ptr, events[i].events);
    uint64_t now = now_ns();
    if (mode == MODE_PUBSUB) publish_more(now);
    if (!measuring && started == 0 && now >= warm_end) {
      measuring = 1;
      messages = 0;
      hist_n = 0;
      memset(hist, 0, HIST_US * sizeof *hist);
      started = now;
      cpu0 = cpu_s();
      printf("start\n");
      fflush(stdout);
    }
    if (measuring && now >= end) break;
  }
  uint64_t stopped = now_ns();
  double cpu = cpu_s() - cpu0;
  printf("end\n");
  double wall = (stopped - started) / 1e9;
  printf("result messages=%llu seconds=%.3f rate=%.0f p50_us=%.1f p99_us=%.1f client_cpu=%.3f errors=%llu mismatches=%llu published=%llu\n",
         (unsigned long long)messages, wall, messages / wall, percentile(0.50), percentile(0.99), cpu / wall,
         (unsigned long long)errors, (unsigned long long)mismatches, (unsigned long long)published);
  fflush(stdout);
  return 0;
}
