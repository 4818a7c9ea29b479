#!/usr/bin/env python3
"""Readers of `scores` while a load runs: how long did a SELECT wait, and for which lock?

    bench_readers.py --date YYYY-MM-DD [--date ...] [--lock-timeout 5s] [--pause 0.01]
                     [--hold TABLE:SECONDS]

Measured as greyoak's safe-migration tests measure readers behind a migration
(Tests/GreyoakIntegrationTests/DBLockWaitTests.swift, `Readers`): one session runs
`SELECT count(*) FROM scores WHERE scoring_date = ...` one query after another (the dates in
turn), each under its own `lock_timeout` as a generous bound, and counts the queries that
finished, that hit the bound (55P03: it would have waited longer) and that failed otherwise,
and the longest a query took. Beside it a watcher session samples the reader every few
milliseconds in pg_stat_activity (wait_event_type 'Lock') and pg_locks (the lock it has not
been granted) with pg_blocking_pids (who holds it), so a wait names its lock and its blocker.

--hold TABLE:SECONDS adds a report that makes the load's attach wait: a third session reads
TABLE in a transaction it keeps open (ACCESS SHARE, say on a default partition, on which the
ATTACH takes ACCESS EXCLUSIVE) until SECONDS after it first sees greyoak's attach statement
wait for a lock; readers that scan TABLE then queue behind the attach, for at most its
lock_timeout each time (held_s, attach_waited in the result).

Prints "ready" once both sessions are connected, runs until stdin closes or SIGTERM, counts
each date once more (final_counts: what a reader sees after the load), then prints one JSON
object. Needs psycopg 3 (scripts/bench's .venv-bench); the connection comes
from DATABASE_URL, the password from PGPASSFILE.
"""

import argparse
import json
import os
import signal
import sys
import threading
import time

import psycopg

WATCH = """
SELECT a.wait_event_type, a.wait_event, l.locktype, l.relation::regclass::text, l.mode,
       (SELECT string_agg(format('pid %%s (%%s): %%s', b.pid, coalesce(nullif(b.application_name, ''), '-'),
                                 regexp_replace(left(b.query, 80), '\\s+', ' ', 'g')), '; ')
          FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(a.pid)))
  FROM pg_stat_activity a
  LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted
 WHERE a.pid = %s AND a.state = 'active'
"""


class Readers:
    def __init__(self, url, dates, lock_timeout, pause):
        self.url, self.dates, self.pause = url, dates, pause
        self.reader = psycopg.connect(url, autocommit=True, application_name="bench-reader")
        self.reader.execute(f"SET lock_timeout = '{lock_timeout}'")
        self.pid = self.reader.info.backend_pid
        self.watcher = psycopg.connect(url, autocommit=True, application_name="bench-reader-watch")
        self.stop = threading.Event()
        self.finished = self.timed_out = 0
        self.errors = []
        self.longest = 0.0
        self.longest_at = None
        self.counts = {d: None for d in dates}
        self.waits = {}  # "wait_event lock mode relation" -> {"longest_s", "samples", "blocked_by"}
        self.started = time.perf_counter()
        self.held = {}

    def read(self):
        i = 0
        while not self.stop.is_set():
            date = self.dates[i % len(self.dates)]
            i += 1
            t0 = time.perf_counter()
            try:
                n = self.reader.execute("SELECT count(*) FROM scores WHERE scoring_date = %s", (date,)).fetchone()[0]
                self.finished += 1
                self.counts[date] = n
            except psycopg.errors.LockNotAvailable:
                self.timed_out += 1
            except psycopg.Error as e:
                self.errors.append(str(e).strip().splitlines()[0])
            waited = time.perf_counter() - t0
            if waited > self.longest:
                self.longest, self.longest_at = waited, t0 - self.started
            time.sleep(self.pause)

    def watch(self):
        current, since = None, None
        while not self.stop.is_set():
            row = self.watcher.execute(WATCH, (self.pid,)).fetchone()
            now = time.perf_counter()
            if row and row[0] == "Lock" and not (row[3] or row[2]):
                # Sampled between the wait's start and its pg_locks row: no lock to name yet.
                time.sleep(0.005)
                continue
            if row and row[0] == "Lock":
                kind, event, locktype, relation, mode, blockers = row
                key = f"{event} lock: {mode or '?'} on {relation or locktype or '?'}"
                w = self.waits.setdefault(key, {"longest_s": 0.0, "samples": 0, "blocked_by": blockers})
                w["samples"] += 1
                if key != current:
                    current, since = key, now
                w["longest_s"] = max(w["longest_s"], now - since)
                w["blocked_by"] = blockers or w["blocked_by"]
            else:
                current = None
            time.sleep(0.005)

    def hold(self, table, seconds):
        """A report on `table`, kept open until `seconds` after greyoak's attach waits for a lock."""
        holder = psycopg.connect(self.url, application_name="bench-report")
        looker = psycopg.connect(self.url, autocommit=True, application_name="bench-report-watch")
        holder.execute(f"SELECT count(*) FROM {table}").fetchone()
        t0, seen = time.perf_counter(), None
        while not self.stop.is_set() and (seen is None or time.perf_counter() < seen + seconds):
            if seen is None and looker.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE '%$greyoak_attach$%'").fetchone()[0]:
                seen = time.perf_counter()
            time.sleep(0.02)
        holder.rollback()
        self.held = {"held_s": round(time.perf_counter() - t0, 2), "attach_waited": seen is not None}
        holder.close()
        looker.close()

    def result(self):
        return {"queries": self.finished, "timed_out": self.timed_out, "errors": self.errors[:5],
                "longest_s": round(self.longest, 4),
                "longest_at_s": None if self.longest_at is None else round(self.longest_at, 2),
                "seconds": round(time.perf_counter() - self.started, 2),
                "last_counts": self.counts, "lock_waits": self.waits, **self.held}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--date", action="append", required=True, help="a scoring_date to count (repeat: taken in turn)")
    ap.add_argument("--lock-timeout", default="5s", help="each query's bound (default 5s)")
    ap.add_argument("--pause", type=float, default=0.01, help="seconds between queries (default 0.01)")
    ap.add_argument("--hold", help="TABLE:SECONDS: a report on TABLE that makes the attach wait (see above)")
    args = ap.parse_args()
    readers = Readers(os.environ["DATABASE_URL"], args.date, args.lock_timeout, args.pause)
    def on_term(*_):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    threads = [threading.Thread(target=readers.read), threading.Thread(target=readers.watch)]
    if args.hold:
        table, seconds = args.hold.rsplit(":", 1)
        threads.append(threading.Thread(target=readers.hold, args=(table, float(seconds))))
    for t in threads:
        t.start()
    print("ready", flush=True)
    try:
        while sys.stdin.readline():  # until EOF: the harness is done
            pass
    except KeyboardInterrupt:
        pass
    finally:
        readers.stop.set()
        for t in threads:
            t.join()
    result = readers.result()
    # Once more after the load: what a reader sees now (the new dates published, the old kept).
    result["final_counts"] = {d: readers.reader.execute("SELECT count(*) FROM scores WHERE scoring_date = %s", (d,)).fetchone()[0]
                              for d in args.date}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
