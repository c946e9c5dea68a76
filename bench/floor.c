// The kernel's floor under `npm run bench:floor`: the least a server can do
// per keep-alive request on this machine, in two ways.
//   floor epoll  one recv(2) and one send(2) per request and an epoll_wait
//                per batch of 256: the system calls simplenet makes.
//   floor uring  io_uring: multishot accept, multishot recv into a ring of
//                provided buffers, the sends of a turn queued and submitted
//                together with the wait: one io_uring_enter per loop turn.
// Both answer every request (a head ending in CRLFCRLF, found across reads)
// with the same 103 bytes simplenet answers GET /hi with. They print
// "listening PORT", or "unsupported REASON" where io_uring cannot start.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESPONSE[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Thu, 26 Nov 2026 05:00:00 GMT\r\nContent-Length: 2\r\n\r\nHi";
#define RESPONSE_LEN (sizeof RESPONSE - 1)
/** Most responses one send carries (a read holding more requests is answered in several sends). */
#define MAX_BATCH 16
static char responses[MAX_BATCH * RESPONSE_LEN];

#define MAX_FD 65536
/** Per descriptor: how much of "\r\n\r\n" the bytes so far end with (0–3). */
static unsigned char matched[MAX_FD];

/** Requests whose head ends in bytes[0..n), carrying the partial terminator in matched[fd]. */
static int heads_ended(int fd, const char* bytes, int n) {
  static const char END[] = "\r\n\r\n";
  int state = matched[fd], count = 0;
  for (int i = 0; i < n; i++) {
    if (bytes[i] == END[state]) state++;
    else state = bytes[i] == '\r' ? 1 : 0;
    if (state == 4) count++, state = 0;
  }
  matched[fd] = (unsigned char)state;
  return count;
}

static int listen_loopback(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // accepted sockets inherit it, as in simplenet
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof addr;
  if (bind(fd, (struct sockaddr*)&addr, sizeof addr) || listen(fd, 4096) || getsockname(fd, (struct sockaddr*)&addr, &len)) {
    perror("listen");
    exit(1);
  }
  return fd;
}

static void announce(int listener) {
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;
  getsockname(listener, (struct sockaddr*)&addr, &len);
  printf("listening %d\n", ntohs(addr.sin_port));
  fflush(stdout);
}

static void serve_epoll(int listener) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener}, ready[256];
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  announce(listener);
  static char input[65536];
  for (;;) {
    int n = epoll_wait(ep, ready, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = ready[i].data.fd;
      if (fd == listener) {
        int conn;
        while ((conn = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          if (conn >= MAX_FD) { close(conn); continue; }
          matched[conn] = 0;
          struct epoll_event e = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = conn};
          epoll_ctl(ep, EPOLL_CTL_ADD, conn, &e);
        }
        continue;
      }
      ssize_t got = recv(fd, input, sizeof input, 0);
      if (got == 0 || (got < 0 && errno != EAGAIN)) { close(fd); continue; }
      if (got < 0) continue;
      for (int left = heads_ended(fd, input, (int)got); left > 0; left -= MAX_BATCH) {
        int count = left < MAX_BATCH ? left : MAX_BATCH;
        send(fd, responses, count * RESPONSE_LEN, MSG_NOSIGNAL);
      }
    }
  }
}

#define BUFFERS 4096
#define BUFFER_SIZE 2048
enum { ACCEPT = 1, RECV = 2, SEND = 3 };
#define TAG(kind, fd) (((unsigned long long)(kind) << 32) | (unsigned)(fd))

static struct io_uring ring;

static struct io_uring_sqe* sqe(void) {
  struct io_uring_sqe* s = io_uring_get_sqe(&ring);
  if (s == NULL) {  // the submission queue is full: hand it to the kernel and take a fresh entry
    io_uring_submit(&ring);
    s = io_uring_get_sqe(&ring);
  }
  return s;
}

static void arm_recv(int fd) {
  struct io_uring_sqe* s = sqe();
  io_uring_prep_recv_multishot(s, fd, NULL, 0, 0);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = 0;
  io_uring_sqe_set_data64(s, TAG(RECV, fd));
}

static void serve_uring(int listener) {
  struct io_uring_params params = {.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN};
  int rc = io_uring_queue_init_params(4096, &ring, &params);
  if (rc < 0) {
    params.flags = 0;  // kernels before 6.1
    rc = io_uring_queue_init_params(4096, &ring, &params);
  }
  if (rc < 0) {
    printf("unsupported io_uring_setup: %s\n", strerror(-rc));
    exit(0);
  }
  struct io_uring_buf_ring* buffers;
  char* memory = malloc((size_t)BUFFERS * BUFFER_SIZE);
  if (posix_memalign((void**)&buffers, 4096, BUFFERS * sizeof(struct io_uring_buf)) || memory == NULL) exit(1);
  io_uring_buf_ring_init(buffers);
  struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)buffers, .ring_entries = BUFFERS, .bgid = 0};
  if ((rc = io_uring_register_buf_ring(&ring, &reg, 0)) < 0) {
    printf("unsupported io_uring provided buffer rings: %s\n", strerror(-rc));
    exit(0);
  }
  const int mask = io_uring_buf_ring_mask(BUFFERS);
  for (int i = 0; i < BUFFERS; i++) io_uring_buf_ring_add(buffers, memory + (size_t)i * BUFFER_SIZE, BUFFER_SIZE, i, mask, i);
  io_uring_buf_ring_advance(buffers, BUFFERS);

  struct io_uring_sqe* s = sqe();
  io_uring_prep_multishot_accept(s, listener, NULL, NULL, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(s, TAG(ACCEPT, listener));
  announce(listener);
  for (;;) {
    io_uring_submit_and_wait(&ring, 1);
    struct io_uring_cqe* cqe;
    unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      seen++;
      int kind = (int)(cqe->user_data >> 32), fd = (int)(cqe->user_data & 0xffffffff), res = cqe->res;
      int more = cqe->flags & IORING_CQE_F_MORE;
      if (kind == ACCEPT) {
        if (res >= 0 && res < MAX_FD) matched[res] = 0, arm_recv(res);
        else if (res >= 0) close(res);
        if (!more) {  // the multishot accept ended: ask again
          s = sqe();
          io_uring_prep_multishot_accept(s, listener, NULL, NULL, SOCK_CLOEXEC);
          io_uring_sqe_set_data64(s, TAG(ACCEPT, listener));
        }
      } else if (kind == RECV) {
        if (res == -ENOBUFS) { arm_recv(fd); continue; }
        if (res <= 0) { close(fd); continue; }  // the peer closed, or an error (the request is gone with the socket)
        int id = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
        char* bytes = memory + (size_t)id * BUFFER_SIZE;
        int count = heads_ended(fd, bytes, res);
        io_uring_buf_ring_add(buffers, bytes, BUFFER_SIZE, id, mask, 0);
        io_uring_buf_ring_advance(buffers, 1);
        for (; count > 0; count -= MAX_BATCH) {
          s = sqe();
          io_uring_prep_send(s, fd, responses, (count < MAX_BATCH ? count : MAX_BATCH) * RESPONSE_LEN, MSG_NOSIGNAL);
          io_uring_sqe_set_data64(s, TAG(SEND, fd));
          s->flags |= IOSQE_CQE_SKIP_SUCCESS;  // only a failed send completes visibly
        }
        if (!more) arm_recv(fd);
      }
      // A failed send (the only kind that completes visibly) needs nothing: the peer is gone, so its
      // receive completes with an error or 0 and closes the descriptor, once, in one place.
    }
    io_uring_cq_advance(&ring, seen);
  }
}

int main(int argc, char** argv) {
  for (int i = 0; i < MAX_BATCH; i++) memcpy(responses + i * RESPONSE_LEN, RESPONSE, RESPONSE_LEN);
  int listener = listen_loopback();
  if (argc > 1 && strcmp(argv[1], "uring") == 0) serve_uring(listener);
  else if (argc > 1 && strcmp(argv[1], "epoll") == 0) serve_epoll(listener);
  fprintf(stderr, "usage: floor epoll|uring\n");
  return 2;
}
