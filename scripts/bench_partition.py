"""scripts/bench on a partitioned `scores` (issue 22), and the second cluster at PostgreSQL's defaults.

Scenarios:
- attach: 1M rows of months the table has no partition for yet (the months after the base)
  into a partitioned `scores` holding the 1M base rows, against a raw `\\copy` of the same rows
  into today's unpartitioned indexed `scores` holding the same base (target ≤ 0.30x), with
  greyoak's peak RSS (< 64 MiB), the split of its time into COPY, index builds and attach (from
  its JSON summary), and a reader of `scores` looping through one more greyoak run (how long a
  SELECT waited, and for which lock: scripts/bench_readers.py).
- unchanged-partitioned, nightly-partitioned: the unchanged and nightly scenarios with their
  rows inside existing partitions (today's paths on the partitioned parent), today's targets.

The partitioned table is the result of the migration recipe ("Partitioning `scores`" in the
README), made by SQL in a template database: the base table becomes the partition
`scores_legacy` (FROM MINVALUE TO the first day of the month after its newest date), its
indexes children of the parent's partitioned indexes of the same names as today's.

Imported by bench.py (which registers itself as module `bench` first); the harness's names
are read through `b` when called.
"""

import datetime as dt
import json
import os
import shlex
import socket
import statistics
import subprocess
from pathlib import Path

import bench as b

SCENARIOS = ["attach", "unchanged-partitioned", "nightly-partitioned"]
NEEDS = {"attach": ["base", "attach"], "unchanged-partitioned": ["base", "new"],
         "nightly-partitioned": ["base", "nightly", "nightly_legacy"]}
DB_PART = "greyoak_bench_partitioned"         # the recipe's result: the base rows in scores_legacy, no other partition
DB_PART_MONTHS = "greyoak_bench_part_months"  # that, plus the attach file's months, attached and empty
DB_PART_DEFAULT = "greyoak_bench_part_default"  # DB_PART plus an empty default partition, scores_default
HOLD_SECONDS = 3  # how long the report on scores_default stays after the attach first waits for it
READERS = Path(__file__).resolve().parent / "bench_readers.py"
READER_BOUND = "5s"     # each reader query's lock_timeout, a generous bound as in DBLockWaitTests
ATTACH_LOCK_WAIT = 2.0  # the attach's lock_timeout (the migrations' --ddl-lock-timeout default): the most a reader may wait
INDEXES = {"scores_pkey": "scores_legacy_pkey", "idx_scores_ticker": "scores_legacy_ticker_idx",
           "idx_scores_band": "scores_legacy_band_idx", "idx_scores_scoring_date": "scores_legacy_scoring_date_idx",
           "idx_scores_mode": "scores_legacy_mode_idx"}


# ---------------------------------------------------------------------------- dates and data

def month_after(day):
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def months(first, last_day):
    """First days of the months from `first` (a first day) through the month of last_day."""
    out = [first]
    while month_after(out[-1]) <= last_day:
        out.append(month_after(out[-1]))
    return out


def last_day(ds):
    return b.weekdays(ds.start, ds.days)[-1]


def attach_dataset(base):
    """The base's tickers and size, starting on the first day of the month after the base's last day."""
    return b.Dataset("attach", base.tickers, base.days, month_after(last_day(base)).isoformat())


def partition_sql(bound):
    """The recipe's result, made fast in a template (the recipe itself validates a NOT VALID CHECK
    to keep its lock short; here nobody else is connected)."""
    renames = "\n".join(f"ALTER INDEX {old} RENAME TO {new};" for old, new in INDEXES.items())
    indexes = "\n".join(f"CREATE INDEX {name} ON scores ({name.removeprefix('idx_scores_')});"
                        for name in INDEXES if name != "scores_pkey")
    return f"""BEGIN;
ALTER TABLE scores RENAME TO scores_legacy;
{renames}
CREATE TABLE scores (LIKE scores_legacy INCLUDING DEFAULTS) PARTITION BY RANGE (scoring_date);
ALTER TABLE scores ADD CONSTRAINT scores_pkey PRIMARY KEY (ticker, scoring_date, mode);
{indexes}
ALTER TABLE scores_legacy ADD CONSTRAINT scores_legacy_bound CHECK (scoring_date < '{bound}');
ALTER TABLE scores ATTACH PARTITION scores_legacy FOR VALUES FROM (MINVALUE) TO ('{bound}');
ALTER TABLE scores_legacy DROP CONSTRAINT scores_legacy_bound;
COMMIT;"""


def months_sql(firsts):
    return "\n".join(f"CREATE TABLE scores_p{m:%Y_%m} PARTITION OF scores FOR VALUES FROM ('{m}') TO ('{month_after(m)}');"
                     for m in firsts)


def build_templates(h, d):
    """DB_PART from the frozen base, DB_PART_MONTHS from DB_PART; rebuilt when the base changes."""
    bound = month_after(last_day(d["base"]))
    firsts = months(bound, last_day(d["attach"]))
    key = f"{h.base_key} partitioned at {bound}"
    h._build(DB_PART, key, b.DB_BASE, lambda db: h.cluster.psql(db, partition_sql(bound)))
    h._build(DB_PART_MONTHS, f"{key} months {firsts[0]}..{firsts[-1]}", DB_PART,
             lambda db: h.cluster.psql(db, months_sql(firsts)), finish="ANALYZE")
    h._build(DB_PART_DEFAULT, f"{key} default", DB_PART,
             lambda db: h.cluster.psql(db, "CREATE TABLE scores_default PARTITION OF scores DEFAULT"), finish="ANALYZE")
    h.cluster.clone(DB_PART, b.DB_PROBE)
    h.base_stats[DB_PART] = legacy_stats(h, b.DB_PROBE)
    h.cluster.drop(b.DB_PROBE)


def legacy_stats(h, db):
    out = h.cluster.psql(db, "SELECT coalesce(max(updated_at)::text, '-'), pg_total_relation_size('scores_legacy') FROM scores")
    upd, size = out.split("|")
    return {"max_updated_at": upd, "total_size": int(size)}


def has_attach_path(h):
    """Whether this greyoak creates partitions for new months (issue 22: --partition-interval)."""
    if not hasattr(h, "attach_path"):
        p = subprocess.run([h.greyoak, "ingest", "--help"], capture_output=True, text=True)
        h.attach_path = "--partition-interval" in p.stdout + p.stderr
    return h.attach_path


# ---------------------------------------------------------------------------- the second cluster

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def defaults_cluster():
    """scripts/pg's cluster at PostgreSQL's defaults (GREYOAK_PG_PROFILE=defaults), started on a
    free port if it is not running. Returns its environment (DATABASE_URL, PGPASSFILE) and a
    function that stops it, or None when it was already running."""
    pg = str(b.REPO / "scripts" / "pg")
    env = dict(os.environ, GREYOAK_PG_PROFILE="defaults", GREYOAK_PG_PORT=str(free_port()))
    running = subprocess.run([pg, "status"], env=env, capture_output=True).returncode == 0
    if subprocess.run([pg, "start"], env=env).returncode != 0:
        b.die("cannot start the cluster at PostgreSQL's defaults (GREYOAK_PG_PROFILE=defaults scripts/pg start)")
    out = subprocess.run([pg, "env"], env=env, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        name, value = line.removeprefix("export ").split("=", 1)
        env[name] = shlex.split(value)[0]
    return env, None if running else (lambda: subprocess.run([pg, "stop"], env=env))


# ---------------------------------------------------------------------------- readers

def start_readers(env, args):
    p = subprocess.Popen([str(b.VENV_PY), str(READERS), *args], env=env, text=True,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.stdout.readline().strip() != "ready":
        p.kill()
        b.die(f"bench_readers.py did not start: {p.stderr.read().strip()[-500:]}")
    return p


def stop_readers(p):
    out, err = p.communicate(timeout=120)  # closes its stdin: it stops, reads once more, prints its result
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": err.strip()[-300:] or f"exit {p.returncode}"}


# ---------------------------------------------------------------------------- scenarios

def run(args, h, d, scenarios, reps):
    tables = []
    if "attach" in scenarios:
        tables.append(attach(h, d, reps))
    if "unchanged-partitioned" in scenarios:
        tables.append(unchanged(h, d, reps))
    if "nightly-partitioned" in scenarios:
        tables.append(nightly(h, d, reps))
    return tables


def mi(n):
    return f"{n / 1e6:g}M" if n >= 1e6 else f"{n / 1e3:g}k"


def rel(p):
    return p.relative_to(b.REPO)


def attach(h, d, reps):
    a, base = d["attach"], d["base"]
    f = a.path
    new_path = has_attach_path(h)
    template = DB_PART if new_path else DB_PART_MONTHS
    how = "" if new_path else " (no attach path in this binary: months already attached, today's path)"
    expect = {"inserted": a.rows, "updated": 0, "outcome": "committed"}
    firsts = months(dt.date.fromisoformat(a.start[:8] + "01"), last_day(a))
    if new_path:
        expect["new_partitions"] = len(firsts)
    old_date, new_date = b.weekdays(base.start, 1)[0].isoformat(), b.weekdays(a.start, 1)[0].isoformat()
    readers = ["--date", old_date, "--date", new_date, "--lock-timeout", READER_BOUND]
    cmds = [h.raw(f, label="raw \\copy into today's unpartitioned indexed scores", template=b.DB_BASE),
            h.raw(f, key="raw_part", label="raw \\copy into the partitioned scores, months attached (info)",
                  template=DB_PART_MONTHS),
            h.ingest(f, label=f"greyoak ingest{how}", expect=expect, template=template),
            h.ingest(f, key="greyoak_readers", label=f"greyoak ingest, a reader looping on scores (info){how}",
                     expect=expect, template=template, readers=readers)]
    if new_path:
        cmds.append(h.ingest(f, key="greyoak_default", label=f"greyoak ingest, scores_default held by a report until "
                             f"{HOLD_SECONDS} s after the attach waits, a reader looping (info)", expect=expect,
                             template=DB_PART_DEFAULT, readers=readers + ["--hold", f"scores_default:{HOLD_SECONDS}"]))
    runs, _ = h.measure("attach", cmds, template, reps)
    t = b.Table(f"attach: {mi(a.rows)} rows of {len(firsts)} new months into a partitioned scores holding {mi(base.rows)}",
                [f"file `{rel(f)}` ({b.size_mib(f):.0f} MiB, {a.start} to {last_day(a)}); {reps} rep(s), alternating",
                 f"partitioned: the recipe's result by SQL (`{DB_PART}`: the base in `scores_legacy`, FROM MINVALUE TO "
                 f"{firsts[0]}); reference: the same rows by raw \\copy into the unpartitioned base (`{b.DB_BASE}`)"
                 + ("" if new_path else f"; greyoak ran into `{DB_PART_MONTHS}` (the months' partitions made empty beforehand)")],
                runs, cmds, "raw", reps)
    t.target("greyoak", "raw", 0.30, "≤ 0.30x raw \\copy")
    rss_check(t, runs, ["greyoak", "greyoak_readers"], "attach")
    t.notes.append(split_note(runs["greyoak"]))
    readers_check(t, runs["greyoak_readers"], new_date, a.tickers * 2)
    if new_path:
        readers_check(t, runs["greyoak_default"], new_date, a.tickers * 2, held=True)
    return t


PHASES = {"copy_seconds": "COPY", "index_seconds": "index builds", "attach_seconds": "attach"}


def split_note(rs):
    """The time of greyoak's attach path by phase, from its JSON summary (medians over the runs):
    copy_seconds, index_seconds and attach_seconds, beside new_partitions."""
    phases = {label: [r.summary[key] for r in rs if r.summary and r.summary.get(key) is not None]
              for key, label in PHASES.items()}
    if not any(phases.values()):
        return "split into COPY, index builds and attach: not in this greyoak's JSON summary (no attach path)"
    total = statistics.median(r.seconds for r in rs)
    counts = sorted({r.summary.get("new_partitions") for r in rs if r.summary}, key=str)
    rest = statistics.median(r.seconds - sum(r.summary.get(k) or 0 for k in PHASES) for r in rs if r.summary)
    return (f"greyoak's split (its JSON summary, medians of {len(rs)} run(s), of {total:.2f} s in all): "
            + ", ".join(f"{label} {statistics.median(v):.2f} s" for label, v in phases.items() if v)
            + f", outside these (start, reading before the first COPY, the end) {rest:.2f} s"
            + "; new partitions: " + ", ".join(str(n) for n in counts))


def rss_check(t, runs, keys, what):
    peak = max((r.rss_kib for k in keys for r in runs[k]), default=0) / 1024
    ok = all(r.ok for k in keys for r in runs[k]) and 0 < peak < 64
    t.checks["greyoak ingest: peak RSS"] = ("< 64 MiB", ok)
    t.verdicts.append((f"{what}: greyoak ingest peak RSS < 64 MiB", f"{peak:.0f} MiB", ok))


def readers_check(t, rs, new_date, per_day, held=False):
    """No reader past its bound, and none waiting longer than the attach's lock_timeout (with a
    margin where a report holds the default partition: the reader queues behind the attach for
    up to that long, each attempt)."""
    results = [r.readers for r in rs if r.readers]
    bad = [x["error"] for x in results if "error" in x]
    results = [x for x in results if "error" not in x]
    longest = max((x["longest_s"] for x in results), default=None)
    timed_out = sum(x["timed_out"] for x in results)
    errors = [e for x in results for e in x["errors"]] + bad
    waits = {}
    for x in results:
        for lock, w in x["lock_waits"].items():
            waits[lock] = max(waits.get(lock, 0.0), w["longest_s"])
            if w.get("blocked_by"):
                waits[lock + f" (blocked by {w['blocked_by']})"] = waits.pop(lock)
    published = all(x["final_counts"].get(new_date) == per_day for x in results)
    queries = sum(x["queries"] for x in results)
    bound = ATTACH_LOCK_WAIT + (0.5 if held else 0)
    waited = all(x.get("attach_waited") for x in results) if held else True
    ok = bool(results) and not errors and timed_out == 0 and longest is not None and longest <= bound and published and waited
    lock_text = "; ".join(f"{k}: longest sampled {v:.3f} s" for k, v in waits.items()) or "never waited for a lock"
    what = "reader" if not held else (f"reader beside a report holding scores_default ("
                                       f"{'the attach waited for it' if waited else 'THE ATTACH NEVER WAITED'}, "
                                       f"held {', '.join(str(x.get('held_s')) for x in results)} s)")
    t.notes.append(f"{what}: `SELECT count(*) FROM scores WHERE scoring_date = ...` in a loop (an old and a new date in "
                   f"turn, lock_timeout {READER_BOUND} each, as DBLockWaitTests' readers), {queries} queries over "
                   f"{len(results)} run(s); longest query {longest if longest is None else f'{longest:.3f}'} s; "
                   f"{timed_out} hit the bound; lock waits (pg_stat_activity/pg_locks): {lock_text}"
                   + (f"; errors: {errors[:3]}" if errors else ""))
    name = "reader" if not held else "reader, default partition held"
    t.checks[f"{name}: longest wait during the load"] = (f"≤ {bound:g} s (the attach's lock_timeout{' + 0.5 s' if held else ''}), "
                                                         f"no timeout, {new_date} visible after", ok)
    t.verdicts.append((f"attach: a reader of scores waits ≤ {bound:g} s" + (", the default partition held by a report" if held else ""),
                       "-" if longest is None else f"{longest:.3f} s", ok))


def unchanged(h, d, reps):
    base, n = d["base"], d["base"].rows
    expect = {"inserted": 0, "updated": 0, "unchanged": n, "outcome": "committed", "writers": h.expect_writers}
    cmds = [h.raw(d["new"].path, label=f"raw \\copy of the backfill file ({mi(d['new'].rows)} new rows) into the "
                                        "unpartitioned frozen base", template=b.DB_BASE),
            h.ingest(base.path, label="greyoak ingest, partitioned (the rows in scores_legacy)", expect=expect,
                     template=DB_PART)]
    verdicts = []

    def no_write(cmd):
        if cmd.key == "raw":
            return "reference"
        s, was = legacy_stats(h, b.DB_RUN), h.base_stats[DB_PART]
        verdicts.append(s == was)
        return "no row written" if s == was else f"WRITTEN: {was} -> {s}"

    runs, _ = h.measure("unchanged-partitioned", cmds, DB_PART, reps, after=no_write)
    t = b.Table(f"unchanged-partitioned: re-ingest the same {mi(n)} rows into the partitioned scores",
                [f"file `{rel(base.path)}` (the base itself, all in scores_legacy); template `{DB_PART}` (frozen); "
                 f"reference as in unchanged; {reps} rep(s), alternating",
                 "no-write check after each run: max(updated_at) and pg_total_relation_size('scores_legacy') as in the template"],
                runs, cmds, "raw", reps)
    t.target("greyoak", "raw", 0.35, "≤ 0.35x backfill raw \\copy")
    ok = bool(verdicts) and all(verdicts)
    t.checks["greyoak ingest, partitioned: no row written"] = ("updated_at and table size unchanged", ok)
    t.verdicts.append(("unchanged-partitioned: greyoak writes no row", "yes" if ok else "no", ok))
    return t


def nightly(h, d, reps):
    """The nightly file of a date inside scores_legacy's range (the nights after the migration,
    before the month ends): 10k rows into a partition of 1M, as today's nightly into the table;
    with a greyoak that makes partitions, also the usual nightly file, whose month has no
    partition (the first night of a month: the attach path, info)."""
    nd = d["nightly_legacy"]
    if dt.date.fromisoformat(nd.start) >= month_after(last_day(d["base"])):
        b.die(f"the nightly's date {nd.start} is past scores_legacy's bound (the base ends on its month's last weekday): "
              "choose another --base-days")
    expect = {"inserted": nd.rows, "outcome": "committed", "writers": h.expect_writers}
    cmds = [h.raw(nd.path, label="raw \\copy into the partitioned scores (rows into scores_legacy)", template=DB_PART),
            h.raw(nd.path, key="raw_flat", label="raw \\copy into today's unpartitioned scores (info)", template=b.DB_BASE),
            h.ingest(nd.path, label="greyoak ingest, rows into scores_legacy (today's path)", expect=expect)]
    if has_attach_path(h):
        first = d["nightly"]
        cmds.append(h.ingest(first.path, key="greyoak_new_month", label=f"greyoak ingest of {first.start}, a month with no "
                             "partition: the attach path (info)", expect={"inserted": first.rows, "outcome": "committed",
                                                                          "new_partitions": 1}))
    runs, _ = h.measure("nightly-partitioned", cmds, DB_PART, reps)
    t = b.Table(f"nightly-partitioned: {mi(nd.rows)} rows into the partitioned scores holding {mi(d['base'].rows)}",
                [f"file `{rel(nd.path)}` ({nd.tickers} tickers x 1 day x 2 modes, {nd.start}, inside scores_legacy's range); "
                 f"template `{DB_PART}`; {reps} rep(s), alternating"],
                runs, cmds, "raw", reps)
    t.target("greyoak", "raw", 1.0, "≤ 1.00x raw \\copy")
    return t
