#!/usr/bin/env python3
"""Edit-to-reload latency of `scalebook serve` on a generated site.

Generates a site of N pages (default 1,000) with ../shared/bench/gen_corpus.py, starts
`target/release/scalebook serve --port 0` on it, listens on the live-reload stream
(/__scalebook/events) and, several times, edits one page and measures the time from the
write to the `reload` event. Prints each sample, the median, and the server's own rebuild
times. Also times a full `scalebook build` of the same site for comparison.

    cargo build --release
    python3 bench/serve_rebuild.py [--pages 1000] [--edits 9]

Only loopback traffic; the server is stopped at the end.
"""

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(REPO, "..", "shared", "bench", "gen_corpus.py")
if not os.path.exists(GEN):
    GEN = "/work/shared/bench/gen_corpus.py"
BIN = os.path.join(REPO, "target", "release", "scalebook")


def cpu_seconds(pid):
    """User + system CPU time of a process so far (Linux), or None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=9)
    ap.add_argument("--keep", action="store_true", help="keep the generated site")
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: run `cargo build --release` first")

    work = tempfile.mkdtemp(prefix="sb-serve-bench-")
    site = os.path.join(work, "site")
    subprocess.run(
        [sys.executable, GEN, "--pages", str(args.pages), "--out", site, "--layout", "neutral"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    pages = sorted(
        os.path.join(d, f)
        for d, _, fs in os.walk(os.path.join(site, "playbooks"))
        for f in fs
        if f.endswith(".md") and f != "_index.md"
    )

    # A full build to disk, twice (the second one with a warm highlight cache).
    full = []
    for _ in range(2):
        t = time.perf_counter()
        subprocess.run([BIN, "build", "--root", site, "--out", os.path.join(work, "out"), "-q"],
                       check=True, stderr=subprocess.DEVNULL)
        full.append((time.perf_counter() - t) * 1000)

    server = subprocess.Popen([BIN, "serve", "--root", site, "--port", "0"],
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    log = []
    port = None
    try:
        while port is None:
            line = server.stderr.readline()
            if not line:
                sys.exit("server ended early:\n" + "".join(log))
            log.append(line)
            m = re.match(r"serving http://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
        threading.Thread(target=lambda: log.extend(iter(server.stderr.readline, "")),
                         daemon=True).start()

        events = socket.create_connection(("127.0.0.1", port))
        events.sendall(b"GET /__scalebook/events HTTP/1.1\r\nHost: x\r\n\r\n")
        events.settimeout(10)
        buf = b""

        def wait_for(token, deadline):
            nonlocal buf
            while token not in buf:
                if time.perf_counter() > deadline:
                    raise TimeoutError(token)
                chunk = events.recv(4096)
                if not chunk:
                    raise EOFError("event stream closed")
                buf += chunk
            buf = buf[buf.index(token) + len(token):]

        wait_for(b"event: hello", time.perf_counter() + 10)
        cpu_before = cpu_seconds(server.pid)
        samples = []
        for i in range(args.edits):
            page = pages[(i * 97) % len(pages)]
            with open(page, encoding="utf-8") as f:
                text = f.read()
            time.sleep(0.3)  # let the previous poll settle, so samples are independent
            t = time.perf_counter()
            with open(page, "w", encoding="utf-8") as f:
                f.write(text + f"\nEdited for the benchmark ({i}).\n")
            wait_for(b"event: reload", t + 10)
            samples.append((time.perf_counter() - t) * 1000)
        cpu_after = cpu_seconds(server.pid)
        events.close()
    finally:
        server.terminate()
        server.wait(timeout=10)

    rebuilds = [int(m.group(1)) for l in log for m in [re.search(r"rebuilt \d+ pages? in (\d+) ms", l)] if m]
    print(f"site: {args.pages} pages")
    print(f"full `scalebook build` to disk: {full[0]:.0f} ms cold, {full[1]:.0f} ms with the highlight cache")
    print("edit -> reload event (ms): " + ", ".join(f"{s:.0f}" for s in samples))
    print(f"median edit -> reload: {statistics.median(samples):.0f} ms "
          f"(min {min(samples):.0f}, max {max(samples):.0f})")
    if rebuilds:
        print(f"server rebuild times (ms): {rebuilds}; median {statistics.median(rebuilds):.0f}")
    if cpu_before is not None and cpu_after is not None:
        # Includes ~0.3 s of idle polling per edit; independent of other load on the machine.
        print(f"server CPU time per edit: {(cpu_after - cpu_before) / args.edits * 1000:.0f} ms")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times grow with it)")
    if args.keep:
        print(f"site kept in {site}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
