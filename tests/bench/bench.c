/*
 * The benchmark client for ./build.sh bench (tests/bench/run.sh).
 *   bench echo PORT MIB   send MIB MiB of random bytes to 127.0.0.1:PORT while
 *                         reading the echo; prints "MiB/s <rate>" (and fails
 *                         when the echo differs)
 *   bench hold PORT N     open N connections, check each echoes a byte,
 *                         print "HELD N", keep them until stdin ends
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int echo(int port, long mib)
{
    size_t len = (size_t)mib << 20;
    uint8_t *out = malloc(len), *back = malloc(len);
    FILE *r = fopen("/dev/urandom", "rb");
    if (!out || !back || !r || fread(out, 1, len, r) != len)
        return 1;
    fclose(r);
    int fd = dial(port);
    size_t sent = 0, got = 0;
    double t0 = now();
    while (got < len) {
        struct pollfd p = {fd, (short)(POLLIN | (sent < len ? POLLOUT : 0)), 0};
        if (poll(&p, 1, 30000) <= 0) {
            fprintf(stderr, "stalled at %zu of %zu bytes\n", got, len);
            return 1;
        }
        if ((p.revents & POLLOUT) && sent < len) {
            ssize_t n = send(fd, out + sent, len - sent < 65536 ? len - sent : 65536, MSG_DONTWAIT);
            if (n > 0)
                sent += (size_t)n;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, back + got, len - got, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN)) {
                fprintf(stderr, "closed at %zu of %zu bytes\n", got, len);
                return 1;
            }
            if (n > 0)
                got += (size_t)n;
        }
    }
    double dt = now() - t0;
    if (memcmp(out, back, len) != 0) {
        fprintf(stderr, "the echo differs\n");
        return 1;
    }
    printf("MiB/s %.1f\n", (double)mib / dt);
    close(fd);
    return 0;
}

static int hold(int port, int n)
{
    for (int i = 0; i < n; i++) {
        int fd = dial(port);
        char c = 'x';
        if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) {
            fprintf(stderr, "connection %d does not echo\n", i);
            return 1;
        }
    }
    printf("HELD %d\n", n);
    fflush(stdout);
    char b[64];
    while (read(0, b, sizeof b) > 0)
        ;
    return 0;
}

/* n connections one after the other, each echoing one byte: the mean time
 * from connect to the echo, which is mostly the relay-side handshakes */
static int conns(int port, int n)
{
    double t0 = now();
    for (int i = 0; i < n; i++) {
        int fd = dial(port);
        char b = 'x';
        if (fd < 0 || write(fd, &b, 1) != 1 || read(fd, &b, 1) != 1 || b != 'x') {
            fprintf(stderr, "bench: connection %d failed\n", i);
            return 1;
        }
        close(fd);
    }
    printf("conns %.2f ms\n", (now() - t0) * 1000.0 / n);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "echo"))
        return echo(atoi(argv[2]), atol(argv[3]));
    if (argc == 4 && !strcmp(argv[1], "conns"))
        return conns(atoi(argv[2]), atoi(argv[3]));
    if (argc == 4 && !strcmp(argv[1], "hold"))
        return hold(atoi(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: bench echo PORT MIB | bench hold PORT N | bench conns PORT N\n");
    return 2;
}
