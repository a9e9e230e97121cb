"""A client straight to PostgreSQL that keeps DEPTH simple queries in flight on each of N
connections for SECS seconds (pgbench's select-only query, a random aid each time), and prints
how many it completed per second. The peer of tests/bench/pipelining-floor.sh: with DEPTH 2 the
backend finds the next query waiting when it finishes one, as behind a pooler that pipelines.

Usage: inflight_client.py PORT CONNECTIONS DEPTH SECONDS   (user and database postgres, trust)
"""
import random
import selectors
import socket
import struct
import sys
import time


def startup(s):
    body = struct.pack('!i', 196608) + b'user\0postgres\0database\0postgres\0\0'
    s.sendall(struct.pack('!i', len(body) + 4) + body)
    buf = b''
    while b'Z\0\0\0\x05I' not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise SystemExit('server closed the connection during login')
        buf += chunk


def query():
    sql = b'SELECT abalance FROM pgbench_accounts WHERE aid = %d' % random.randint(1, 1000000) + b'\0'
    return b'Q' + struct.pack('!i', len(sql) + 4) + sql


def main():
    port, n, depth, secs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    sel = selectors.DefaultSelector()
    conns = []
    for _ in range(n):
        s = socket.create_connection(('127.0.0.1', port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        startup(s)
        s.setblocking(False)
        conns.append(s)
        sel.register(s, selectors.EVENT_READ, [b''])
    done = 0
    end = time.time() + secs
    for s in conns:
        for _ in range(depth):
            s.send(query())
    while time.time() < end:
        for key, _ in sel.select(1):
            s, state = key.fileobj, key.data
            buf = state[0] + s.recv(65536)
            out = b''
            i = 0
            while len(buf) - i >= 5:
                length = struct.unpack('!i', buf[i + 1:i + 5])[0]
                if len(buf) - i < length + 1:
                    break
                if buf[i] == ord('Z'):  # a query answered: send the next one
                    done += 1
                    out += query()
                i += length + 1
            state[0] = buf[i:]
            if out:
                s.send(out)
    print(done / secs)


if __name__ == '__main__':
    main()
