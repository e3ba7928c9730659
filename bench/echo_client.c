/* echo_client.c -- W10's client, the same for every server bench/run
 * measures: C on one epoll loop, so that the server, not the client, is what
 * runs out of CPU (the client's own CPU time is printed to show it).
 *   echo_client PORT [CONNECTIONS [MESSAGES [SIZE]]]
 * opens CONNECTIONS (100) connections to 127.0.0.1:PORT; each sends MESSAGES
 * (256) messages of SIZE (65536) bytes, one at a time: a message is written,
 * its echo read back whole and compared byte for byte with what was sent,
 * then the next is written. A message's bytes are a window into one random
 * buffer that starts at a different place for each connection and message,
 * so an echo that mixes up connections, messages or order does not compare
 * equal. Prints
 *   echo bytes=B seconds=S mb_s=R client_cpu_s=C
 * (B the payload bytes echoed, R = B / S / 10^6, C the client's user + system
 * time) and exits 0, or names the fault on stderr and exits 1. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SKEW 4096   /* how far apart messages start in the random buffer */

typedef struct conn {
  int fd;
  long message;   /* messages echoed whole so far */
  size_t sent;    /* of the current message */
  size_t echoed;  /* of the current message */
} conn;

static size_t size;
static long messages;
static unsigned char *pattern;   /* size + SKEW random bytes */
static unsigned char scratch[1 << 16];

static void fail(const char *what, int id) {
  fprintf(stderr, "echo_client: connection %d: %s\n", id, what);
  exit(1);
}

static const unsigned char *message_of(const conn *c, int id) {
  return pattern + ((size_t)id * 7919 + (size_t)c->message * 104729) % SKEW;
}

/* Writes and reads until the socket would block both ways (epoll is
 * edge-triggered). Returns 1 when the connection has echoed every message. */
static int progress(conn *c, int id) {
  for (;;) {
    const unsigned char *m = message_of(c, id);
    int blocked = 1;
    ssize_t n;
    if (c->sent < size) {
      n = write(c->fd, m + c->sent, size - c->sent);
      if (n > 0) {
        c->sent += (size_t)n;
        blocked = 0;
      } else if (errno != EAGAIN) {
        fail(strerror(errno), id);
      }
    }
    n = read(c->fd, scratch, sizeof scratch);
    if (n == 0) fail("the server closed the connection early", id);
    if (n < 0) {
      if (errno != EAGAIN) fail(strerror(errno), id);
      if (blocked) return 0;
      continue;
    }
    if (c->echoed + (size_t)n > c->sent) fail("more bytes came back than were sent", id);
    if (memcmp(scratch, m + c->echoed, (size_t)n) != 0) fail("the echo differs from what was sent", id);
    c->echoed += (size_t)n;
    if (c->echoed == size) {
      c->sent = c->echoed = 0;
      if (++c->message == messages) return 1;
    }
  }
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  int connections = argc > 2 ? atoi(argv[2]) : 100;
  int open, ep, i;
  conn *conns;
  struct sockaddr_in to;
  struct rusage usage;
  double start, seconds, cpu;
  unsigned long long bytes;
  messages = argc > 3 ? atol(argv[3]) : 256;
  size = argc > 4 ? (size_t)atol(argv[4]) : 65536;
  if (port <= 0 || connections <= 0 || messages <= 0 || size == 0) {
    fprintf(stderr, "usage: echo_client PORT [CONNECTIONS [MESSAGES [SIZE]]]\n");
    return 2;
  }
  pattern = malloc(size + SKEW);
  conns = calloc((size_t)connections, sizeof *conns);
  ep = epoll_create1(0);
  if (!pattern || !conns || ep < 0) fail("out of memory or epoll_create1 failed", -1);
  srand(20);
  for (i = 0; i < (int)(size + SKEW); i++) pattern[i] = (unsigned char)(rand() >> 7);

  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons((unsigned short)port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  start = now();
  for (i = 0; i < connections; i++) {
    struct epoll_event ev;
    int one = 1;
    conns[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (conns[i].fd < 0) fail(strerror(errno), i);
    setsockopt(conns[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(conns[i].fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS)
      fail(strerror(errno), i);
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u32 = (unsigned)i;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0) fail(strerror(errno), i);
  }

  open = connections;
  while (open > 0) {
    struct epoll_event events[128];
    int n = epoll_wait(ep, events, 128, -1);
    if (n < 0 && errno != EINTR) fail(strerror(errno), -1);
    for (i = 0; i < n; i++) {
      int id = (int)events[i].data.u32;
      conn *c = &conns[id];
      if (c->fd < 0) continue;
      if ((events[i].events & EPOLLERR) && !(events[i].events & EPOLLIN)) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        fail(strerror(err ? err : EIO), id);
      }
      if (progress(c, id)) {
        close(c->fd);   /* the server sees the end and finishes this connection */
        c->fd = -1;
        open--;
      }
    }
  }
  seconds = now() - start;
  getrusage(RUSAGE_SELF, &usage);
  cpu = (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
        usage.ru_stime.tv_usec / 1e6;
  bytes = (unsigned long long)connections * (unsigned long long)messages * size;
  printf("echo bytes=%llu seconds=%.3f mb_s=%.1f client_cpu_s=%.2f\n", bytes, seconds, (double)bytes / seconds / 1e6,
         cpu);
  return 0;
}
