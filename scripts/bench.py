#!/usr/bin/env python3
"""Benchmark harness behind scripts/bench (run that, not this: it sets up the cluster,
the psycopg virtualenv and /usr/bin/time first).

Every measured run starts from an identical database: a base database is built once per
table state (greyoak_bench_empty: schema at head; greyoak_bench_base: plus the base rows,
VACUUM ANALYZE, CHECKPOINT), and before each run greyoak_bench_run is dropped and created
again from it as a template (STRATEGY FILE_COPY), then a CHECKPOINT flushes what that
wrote. Only the command itself is timed: time.perf_counter() around subprocess.run() of
the whole process, start to exit, under /usr/bin/time -f %M for its peak RSS. The compared
commands alternate (rep 1: raw, staged, python, greyoak; rep 2: ...) and the tables show
medians. Only databases named greyoak_bench_* are created or dropped.
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# The partitioned-scores scenarios live in bench_partition.py, which reads this module's names
# as `bench` (run as a script, this module is __main__).
sys.modules.setdefault("bench", sys.modules[__name__])
import bench_partition  # noqa: E402
from bench_partition import start_readers, stop_readers  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
GEN = REPO / "scripts" / "gen-scores"
LOADER = REPO / "scripts" / "bench_loader.py"
VENV_PY = REPO / ".venv-bench" / "bin" / "python"
DATA = REPO / "bench-data"
RESULTS = REPO / "bench-results"
DOC = REPO / "BENCHMARKS.md"
MIGRATIONS = REPO / "migrations"
DOC_START = "<!-- bench:results:start (scripts/bench --update-doc rewrites this section) -->"
DOC_END = "<!-- bench:results:end -->"

COLUMNS = ("ticker scoring_date mode f_score t_score r_score o_score q_score s_score "
           "weighted_score risk_penalty final_score band guardrails as_of "
           "f_z t_z r_z o_z q_z s_z").split()
VALUES = COLUMNS[3:]
COLS = ", ".join(COLUMNS)

DB_EMPTY = "greyoak_bench_empty"
DB_BASE = "greyoak_bench_base"          # base rows by \\copy, then VACUUM (FREEZE, ANALYZE): the friendliest state
DB_LOADED = "greyoak_bench_loaded"      # base rows by greyoak ingest, nothing after: a retry right after the load
DB_VACUUMED = "greyoak_bench_vacuumed"  # DB_LOADED after a plain VACUUM (what autovacuum does, no freeze)
DB_RUN = "greyoak_bench_run"
DB_PROBE = "greyoak_bench_probe"        # a throwaway copy, so that reading a base never sets its hint bits
ALL_SCENARIOS = ["backfill", "unchanged", "changed", "nightly", "dryrun", "dryrunjson", "rss", "bad-input", "current",
                 *bench_partition.SCENARIOS]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def die(msg):
    log(f"bench: {msg}")
    sys.exit(1)


# ---------------------------------------------------------------------------- cluster

class Cluster:
    """A private cluster, through DATABASE_URL (role greyoak) and PGPASSFILE from scripts/pg env:
    scripts/pg's tuned one (the environment scripts/bench set up) or the one at PostgreSQL's
    defaults (GREYOAK_PG_PROFILE=defaults, see defaults_cluster)."""

    def __init__(self, env=None, server="tuned"):
        self.env = dict(env or os.environ)
        self.server = server
        self.url = self.env.get("DATABASE_URL") or die("DATABASE_URL is not set (eval \"$(scripts/pg env)\")")
        m = re.fullmatch(r"(postgres(?:ql)?://[^/]*)/([^?]*)(\?.*)?", self.url)
        if not m or "127.0.0.1" not in m.group(1) and "localhost" not in m.group(1):
            die(f"DATABASE_URL must point at the local cluster on 127.0.0.1: {self.url}")
        self.prefix, self.query = m.group(1), m.group(3) or ""
        self.postmaster = None
        self.checkpoint_cmd = self._find_checkpoint()
        self.warned = False

    def db_url(self, db):
        return f"{self.prefix}/{db}{self.query}"

    def psql(self, db, sql, check=True):
        env = dict(self.env, PGOPTIONS="-c client_min_messages=warning")
        p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.db_url(db), "-c", sql],
                           env=env, capture_output=True, text=True)
        if check and p.returncode != 0:
            die(f"psql on {db} failed: {sql[:200]}\n{p.stderr.strip()}")
        return p.stdout.strip() if p.returncode == 0 else None

    def _find_checkpoint(self):
        """CHECKPOINT needs a superuser (or pg_checkpoint): as root, the cluster's postgres
        superuser over the unix socket (peer auth), as scripts/pg itself does."""
        for pid_file in [REPO / ".pg" / "data" / "postmaster.pid", REPO / ".pg-defaults" / "data" / "postmaster.pid",
                         *sorted(Path("/tmp").glob("greyoak-pg-*/data/postmaster.pid"))]:
            try:
                lines = pid_file.read_text().splitlines()
            except OSError:
                continue
            port, sock = lines[3].strip(), lines[4].strip()
            if f":{port}/" not in self.url + "/":
                continue
            self.postmaster = int(lines[0])
            if os.geteuid() == 0:
                return ["runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-h", sock, "-p", port,
                        "-U", "postgres", "-d", "postgres", "-c", "CHECKPOINT"]
            return ["psql", "-X", "-q", "-h", sock, "-p", port, "-d", "postgres", "-c", "CHECKPOINT"]
        return None

    def checkpoint(self):
        if self.checkpoint_cmd:
            p = subprocess.run(self.checkpoint_cmd, capture_output=True, text=True, cwd="/")
            if p.returncode == 0:
                return
        if self.psql("postgres", "CHECKPOINT", check=False) is not None:
            return
        if not self.warned:
            log("bench: WARNING: cannot run CHECKPOINT (no superuser access, no pg_checkpoint): runs may pay for earlier WAL")
            self.warned = True

    def cpu_seconds(self):
        """CPU the server has used so far: the postmaster's own, its exited children's (the
        kernel adds those to the postmaster's cutime/cstime when it reaps them: the sessions
        of finished runs) and its live children's (checkpointer, walwriter, sessions).
        Counts what the server did whatever else the machine ran, unlike wall time."""
        if not self.postmaster:
            return None
        hz = os.sysconf("SC_CLK_TCK")
        def fields(pid):
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()
        try:
            own = fields(self.postmaster)  # [0] is field 3 (state): utime is [11], cstime [14]
            total = sum(int(x) for x in own[11:15])
            children = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children").read_text().split()
        except OSError:
            return None
        for pid in children:
            try:
                total += sum(int(x) for x in fields(pid)[11:13])
            except OSError:
                pass  # exited meanwhile: counted in cutime once reaped
        return total / hz

    def drop(self, db):
        """Plain DROP first: it waits a moment for other sessions and stops autovacuum workers
        itself (after a big load one is often analysing the table), where WITH (FORCE) refuses
        a non-superuser to end them."""
        assert db.startswith("greyoak_bench_")
        error = ""
        for attempt in range(10):
            for sql in (f"DROP DATABASE IF EXISTS {db}", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"):
                env = dict(self.env, PGOPTIONS="-c client_min_messages=warning")
                p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.db_url("postgres"), "-c", sql],
                                   env=env, capture_output=True, text=True)
                if p.returncode == 0:
                    return
                error = p.stderr.strip()
            time.sleep(3)
        die(f"cannot drop {db}: {error}")

    def clone(self, template, db):
        """db as a fresh copy of template; retried while something (autovacuum) holds the template."""
        assert db.startswith("greyoak_bench_")
        self.drop(db)
        for attempt in range(10):
            if self.psql("postgres", f"CREATE DATABASE {db} TEMPLATE {template} STRATEGY FILE_COPY", check=False) is not None:
                return
            time.sleep(2)
        die(f"cannot create {db} from template {template} (is something connected to it?)")

    def settings(self):
        names = ["server_version", "shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem",
                 "temp_buffers", "max_wal_size", "checkpoint_timeout", "wal_compression", "wal_level",
                 "synchronous_commit", "fsync", "full_page_writes", "effective_io_concurrency",
                 "max_parallel_workers_per_gather", "random_page_cost", "autovacuum", "jit",
                 "max_connections", "max_prepared_transactions", "data_checksums", "wal_log_hints",
                 "wal_buffers", "wal_writer_delay"]
        out = self.psql("postgres", "SELECT name || '=' || current_setting(name) FROM pg_settings WHERE name IN ("
                        + ", ".join(f"'{n}'" for n in names) + ") ORDER BY name")
        return dict(line.split("=", 1) for line in out.splitlines())


# ---------------------------------------------------------------------------- data

def weekdays(start, n):
    d = dt.date.fromisoformat(start)
    days = []
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d += dt.timedelta(days=1)
    return days


def next_weekday(start, n):
    """The first weekday after n weekdays from start (gen-scores moves a weekend start to Monday)."""
    return weekdays((weekdays(start, n)[-1] + dt.timedelta(days=1)).isoformat(), 1)[0].isoformat()


@dataclass
class Dataset:
    label: str
    tickers: int
    days: int
    start: str
    seed: int = 42
    changed: float = 0.0
    change_seed: int = 3
    per_day: bool = False
    fmt: str = "csv"  # gen-scores --format: csv, json (an array) or ndjson

    @property
    def rows(self):
        return self.tickers * self.days * 2

    @property
    def changed_rows(self):
        return round(self.changed * self.rows)

    def gen_args(self):
        a = ["--tickers", str(self.tickers), "--days", str(self.days), "--start", self.start, "--seed", str(self.seed)]
        if self.changed:
            a += ["--changed-fraction", str(self.changed), "--change-seed", str(self.change_seed)]
        if self.fmt != "csv":
            a += ["--format", self.fmt]
        return a

    @property
    def path(self):
        name = f"{self.label}-{self.tickers}x{self.days}-{self.start}-s{self.seed}"
        if self.changed:
            name += f"-c{self.changed:g}-cs{self.change_seed}"
        return DATA / (name + ("-days" if self.per_day else "." + self.fmt))

    def ensure(self, regen=False):
        """Generated once into bench-data/ (the name carries the generator arguments), reused after."""
        if self.path.exists() and not regen:
            return self.path
        DATA.mkdir(exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
        cmd = [str(GEN), *self.gen_args()] + (["--per-day", str(tmp)] if self.per_day else ["--out", str(tmp)])
        log(f"bench: generating {self.path.relative_to(REPO)} ({self.rows:,} rows)")
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        if self.path.exists():
            shutil.rmtree(self.path) if self.path.is_dir() else self.path.unlink()
        tmp.rename(self.path)
        log(f"bench:   done in {time.perf_counter() - t0:.1f} s")
        return self.path


def size_mib(path):
    p = Path(path)
    total = sum(f.stat().st_size for f in p.iterdir()) if p.is_dir() else p.stat().st_size
    return total / 2**20


# ---------------------------------------------------------------------------- commands

@dataclass
class Command:
    key: str
    label: str
    argv: list
    expect: dict = field(default_factory=dict)  # greyoak --json fields that must match
    stdout_check: str = None                     # exact stdout expected (db current)
    template: str = None                         # the table state it runs from (default: the scenario's)
    status: int = 0                              # the exit status expected (9: a refused run)
    readers: list = None                         # bench_readers.py arguments: readers of scores during the run


@dataclass
class Run:
    seconds: float
    rss_kib: int
    ok: bool
    note: str = ""
    load: float = 0.0
    server_cpu: float = None  # CPU seconds of every server process during the run
    client_cpu: float = None  # user + system CPU seconds of the command itself
    summary: dict = None      # greyoak's JSON summary (its last stdout line)
    readers: dict = None      # bench_readers.py's result, when the command had readers


class Harness:
    def __init__(self, args, cluster):
        self.args = args
        self.cluster = cluster
        self.tmp = Path(tempfile.mkdtemp(prefix="greyoak-bench-"))
        # A private copy: another engineer may rebuild .build/release while this runs.
        self.greyoak = str(self.tmp / "greyoak")
        shutil.copy2(args.greyoak, self.greyoak)
        self.greyoak_mtime = Path(args.greyoak).stat().st_mtime
        self.commit = sh(f"git -C {shlex.quote(str(REPO))} rev-parse --short HEAD")
        self.dirty = sh(f"git -C {shlex.quote(str(REPO))} status --porcelain -- Sources Package.swift")
        self.greyoak_sha = hashlib.sha256(Path(self.greyoak).read_bytes()).hexdigest()[:12]
        self.loads = []
        self.base_key = None
        self.results = []  # one dict per scenario
        self.base_stats = None
        # greyoak's default (one writer per core, at most 4), all of them only with two-phase
        # commit: the README's configuration for parallel atomic loads.
        self.writers = min(4, os.cpu_count() or 1)
        prepared = int(cluster.settings().get("max_prepared_transactions", "0"))
        self.expect_writers = self.writers if prepared >= self.writers else 1

    # --- databases

    def build_bases(self, base_file, realistic=False):
        """greyoak_bench_empty (schema at head + unlogged parse table) and greyoak_bench_base
        (+ base rows), and with `realistic` greyoak_bench_loaded and greyoak_bench_vacuumed;
        rebuilt only when their inputs changed (key in the database comment)."""
        mig = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(MIGRATIONS.glob("*.sql")))).hexdigest()[:16]
        empty_key = f"bench v2 migrations {mig}"
        self._build(DB_EMPTY, empty_key, None, self._fill_empty)
        if base_file is None:
            return
        base_key = f"{empty_key} base {base_file.name}"
        self.base_key = base_key
        self._build(DB_BASE, base_key, DB_EMPTY, lambda db: self._fill_base(db, base_file))
        # What the unchanged re-ingest must leave as it is (read from a copy, see _probe).
        self.base_stats = {DB_BASE: self._probe(DB_BASE)}
        if not realistic:
            return
        # The rows as the load that wrote them left them: written by greyoak itself (its
        # writers, its commit method), no VACUUM, no ANALYZE, hint bits not set; autovacuum
        # is kept off on scores until the run's copy, or it would vacuum the template.
        loaded_key = f"{base_key} loaded by greyoak {self.greyoak_sha}"
        self._build(DB_LOADED, loaded_key, DB_EMPTY, lambda db: self._fill_loaded(db, base_file), finish=None)
        self._build(DB_VACUUMED, f"{loaded_key} vacuumed", DB_LOADED, None, finish="VACUUM scores")
        for db in (DB_LOADED, DB_VACUUMED):
            self.base_stats[db] = self._probe(db)

    def _probe(self, template):
        """table_stats and the visibility state of a base, read from a throwaway copy: a
        read sets hint bits, which would change the very state the base stands for."""
        self.cluster.clone(template, DB_PROBE)
        stats = self.table_stats(DB_PROBE)
        self.cluster.drop(DB_PROBE)
        return stats

    def _fill_loaded(self, db, base_file):
        self.cluster.psql(db, "ALTER TABLE scores SET (autovacuum_enabled = false)")
        env = dict(self.cluster.env, DATABASE_URL=self.cluster.db_url(db))
        p = subprocess.run([self.greyoak, "ingest", "--no-progress", "--json", "--migrations", str(MIGRATIONS), str(base_file)],
                           env=env, capture_output=True, text=True)
        if p.returncode != 0:
            die(f"greyoak ingest of the base into {db} failed:\n{p.stderr}")
        self.loaded_summary = json.loads(p.stdout.strip().splitlines()[-1])

    def _build(self, db, key, template, fill, finish="VACUUM (FREEZE, ANALYZE)"):
        c = self.cluster
        have = c.psql("postgres", f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{db}'")
        if have == key and not self.args.rebuild:
            return
        log(f"bench: building {db} ({key})")
        t0 = time.perf_counter()
        if template:
            c.clone(template, db)
            c.psql("postgres", f"ALTER DATABASE {db} WITH ALLOW_CONNECTIONS true")
        else:
            c.drop(db)
            c.psql("postgres", f"CREATE DATABASE {db}")
        if fill:
            fill(db)
        if finish:
            c.psql(db, finish)
        c.psql("postgres", f"COMMENT ON DATABASE {db} IS '{key}'")
        # No connections: a template must have none when it is copied (autovacuum included).
        c.psql("postgres", f"ALTER DATABASE {db} WITH ALLOW_CONNECTIONS false")
        c.checkpoint()
        log(f"bench:   built in {time.perf_counter() - t0:.1f} s")

    def _fill_empty(self, db):
        env = dict(self.cluster.env, DATABASE_URL=self.cluster.db_url(db))
        p = subprocess.run([self.greyoak, "db", "upgrade", "head", "--migrations", str(MIGRATIONS), "--quiet"],
                           env=env, capture_output=True, text=True)
        if p.returncode != 0:
            die(f"greyoak db upgrade head failed on {db}:\n{p.stderr}")
        # The server's own CSV parsing: same column types, no index, no WAL.
        self.cluster.psql(db, f"CREATE UNLOGGED TABLE bench_parse AS SELECT {COLS} FROM scores WITH NO DATA")

    def _fill_base(self, db, base_file):
        self.cluster.psql(db, f"\\copy scores ({COLS}) FROM '{base_file}' CSV HEADER")

    def table_stats(self, db):
        # relallvisible before the count: what VACUUM left (0 right after a load).
        out = self.cluster.psql(db, "SELECT pg_relation_size('scores') / current_setting('block_size')::int, relallvisible, "
                                    "reltuples FROM pg_class WHERE oid = 'scores'::regclass")
        pages, visible, tuples = out.split("|")
        out = self.cluster.psql(db, "SELECT count(*), coalesce(max(updated_at)::text, '-'), "
                                    "pg_total_relation_size('scores') FROM scores")
        n, upd, size = out.split("|")
        return {"rows": int(n), "max_updated_at": upd, "total_size": int(size),
                "relpages": int(pages), "relallvisible": int(visible), "reltuples": float(tuples)}

    def reset(self, template):
        self.cluster.clone(template, DB_RUN)
        if template in (DB_LOADED, DB_VACUUMED):
            # The template kept autovacuum off on scores so that nothing set its hint bits
            # before it was copied; the copy is a live database again (a catalog change only).
            self.cluster.psql(DB_RUN, "ALTER TABLE scores RESET (autovacuum_enabled)")
        self.cluster.checkpoint()

    # --- running

    def run_once(self, cmd):
        rss_file = self.tmp / "rss"
        rss_file.unlink(missing_ok=True)
        env = dict(self.cluster.env, DATABASE_URL=self.cluster.db_url(DB_RUN), PYTHONDONTWRITEBYTECODE="1")
        argv = ["/usr/bin/time", "-f", "%U %S %M", "-o", str(rss_file), *cmd.argv]
        readers = start_readers(env, cmd.readers) if cmd.readers else None
        load = os.getloadavg()[0]
        self.loads.append(load)
        cpu0 = self.cluster.cpu_seconds()
        t0 = time.perf_counter()
        p = subprocess.run(argv, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        readers = stop_readers(readers) if readers else None
        # The sessions' exit is reaped a moment after the client sees the end.
        time.sleep(0.3)
        cpu1 = self.cluster.cpu_seconds()
        rss, client = 0, None
        try:
            user, system, rss = rss_file.read_text().split()[-3:]
            rss, client = int(rss), float(user) + float(system)
        except (OSError, ValueError, IndexError):
            pass
        run = Run(seconds, rss, p.returncode == cmd.status, load=load, client_cpu=client,
                  server_cpu=None if cpu0 is None or cpu1 is None else cpu1 - cpu0, readers=readers)
        try:
            run.summary = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            pass
        if p.returncode != cmd.status:
            run.note = f"exit {p.returncode}: " + " | ".join(p.stderr.strip().splitlines()[-3:])
        elif cmd.expect:
            try:
                summary = json.loads(p.stdout.strip().splitlines()[-1])
                bad = {k: summary.get(k) for k, v in cmd.expect.items() if summary.get(k) != v}
                if bad:
                    run.ok, run.note = False, f"expected {cmd.expect}, got {bad}"
            except (ValueError, IndexError):
                run.ok, run.note = False, f"no JSON summary on stdout: {p.stdout[-200:]!r}"
        elif cmd.stdout_check is not None and p.stdout.strip() != cmd.stdout_check:
            run.ok, run.note = False, f"printed {p.stdout.strip()!r}, expected {cmd.stdout_check!r}"
        return run

    def measure(self, name, commands, template, reps, after=None, reset_each=True):
        """Alternates the commands rep by rep; each run from a fresh copy of template."""
        runs = {c.key: [] for c in commands}
        extra = {c.key: [] for c in commands}
        if not reset_each:
            self.reset(template)
        for rep in range(1, reps + 1):
            for cmd in commands:
                if reset_each:
                    self.reset(cmd.template or template)
                r = self.run_once(cmd)
                runs[cmd.key].append(r)
                msg = f"bench: [{name} {rep}/{reps}] {cmd.label}: {r.seconds:.3f} s, RSS {r.rss_kib / 1024:.0f} MiB"
                if after and r.ok:
                    verdict = after(cmd)
                    extra[cmd.key].append(verdict)
                    msg += f", {verdict}"
                log(msg + ("" if r.ok else f"  FAILED: {r.note}"))
        return runs, extra

    # --- commands

    def raw(self, path, label="raw \\copy", key="raw", template=None):
        return Command(key, label, ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.cluster.db_url(DB_RUN),
                                    "-c", f"\\copy scores ({COLS}) FROM '{path}' CSV HEADER"], template=template)

    def parse_only(self, path):
        return Command("parse", "server CSV parsing (\\copy into unlogged, unindexed table)",
                       ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.cluster.db_url(DB_RUN),
                        "-c", f"\\copy bench_parse ({COLS}) FROM '{path}' CSV HEADER"])

    def staged(self, path, key="staged", label="staged SQL (psql COPY to temp + INSERT ON CONFLICT)", template=None):
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in VALUES)
        old = ", ".join(f"scores.{c}" for c in VALUES)
        new = ", ".join(f"EXCLUDED.{c}" for c in VALUES)
        script = self.tmp / f"staged-{hashlib.sha1(str(path).encode()).hexdigest()[:8]}.sql"
        script.write_text(f"""SET temp_buffers = '256MB';
BEGIN;
CREATE TEMPORARY TABLE stage ON COMMIT DROP AS SELECT {COLS} FROM scores WITH NO DATA;
\\copy stage ({COLS}) FROM '{path}' CSV HEADER
INSERT INTO scores ({COLS}) SELECT {COLS} FROM stage
ON CONFLICT (ticker, scoring_date, mode) DO UPDATE SET {sets}, updated_at = now()
WHERE ({old}) IS DISTINCT FROM ({new});
COMMIT;
""")
        return Command(key, label, ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.cluster.db_url(DB_RUN),
                                    "-f", str(script)], template=template)

    def python(self, path):
        return Command("python", "Python loader (psycopg 3)", [str(VENV_PY), str(LOADER), str(path)])

    def ingest(self, path, key="greyoak", label="greyoak ingest", expect=None, dry_run=False, template=None,
               extra=(), status=0, readers=None):
        argv = [self.greyoak, "ingest", "--no-progress", "--json", "--migrations", str(MIGRATIONS), *extra]
        if dry_run:
            argv.append("--dry-run")
        return Command(key, label, argv + [str(path)], expect=expect or {}, template=template, status=status,
                       readers=readers)


# ---------------------------------------------------------------------------- tables

def med(runs):
    return statistics.median(r.seconds for r in runs)


def fmt_s(x):
    return f"{x:.2f}" if x is not None else "-"


def fmt_ratio(x):
    return f"{x:.2f}x" if x is not None else "-"


class Table:
    def __init__(self, title, notes, runs, commands, ref, reps):
        self.title, self.notes, self.runs, self.commands, self.ref, self.reps = title, notes, runs, commands, ref, reps
        self.targets = {}  # key -> (text, pass)
        self.extra_rows = []
        self.checks = {}   # key -> text
        self.verdicts = []  # (description, measured, pass) for the summary

    def median(self, key):
        rs = self.runs.get(key) or []
        return med(rs) if rs and all(r.ok for r in rs) else None

    def ratio(self, a, b):
        ma, mb = self.median(a), self.median(b)
        return ma / mb if ma is not None and mb else None

    def target(self, key, over, limit, text, row_label=None):
        """median(key) / median(over) <= limit: on key's row if over is the reference, else its own row."""
        r = self.ratio(key, over)
        ok = r is not None and r <= limit
        label = row_label or f"{self.label(key)} / {self.label(over)}"
        on_row = over == self.ref and row_label is None
        if on_row:
            self.targets[key] = (text, ok)
        else:
            self.extra_rows.append((label, r, text, ok))
        self.verdicts.append((f"{self.title.split(':')[0]}: {self.label(key) if on_row else label} {text}", fmt_ratio(r), ok))
        return ok

    def cpu(self, key):
        """Medians of (server CPU, client CPU, both), in seconds; None where not measured."""
        rs = self.runs.get(key) or []
        def m(values):
            values = [v for v in values if v is not None]
            return statistics.median(values) if len(values) == len(rs) and values else None
        return (m(r.server_cpu for r in rs), m(r.client_cpu for r in rs),
                m(None if r.server_cpu is None or r.client_cpu is None else r.server_cpu + r.client_cpu for r in rs))

    def label(self, key):
        return next(c.label for c in self.commands if c.key == key)

    def markdown(self):
        out = [f"### {self.title}", ""]
        out += [f"{n}  " for n in self.notes]
        out += ["", "| command | median s | min s | max s | ratio | server CPU s | client CPU s | CPU ratio | peak RSS MiB | target | result |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
        ref_cpu = self.cpu(self.ref)
        for c in self.commands:
            rs = self.runs[c.key]
            if not rs:
                continue
            secs = [r.seconds for r in rs]
            m = self.median(c.key)
            ratio = "1.00x (ref)" if c.key == self.ref else fmt_ratio(self.ratio(c.key, self.ref))
            rss = max(r.rss_kib for r in rs) / 1024
            text, ok = self.targets.get(c.key, ("", None))
            result = "" if ok is None else ("PASS" if ok else "FAIL")
            failed = [r.note for r in rs if not r.ok]
            if failed:
                result = f"ERROR: {failed[0][:120]}"
            server, client, both = self.cpu(c.key)
            cpu_ratio = f"{both / ref_cpu[2]:.2f}x" if both is not None and ref_cpu[2] else "-"
            out.append(f"| {c.label} | {statistics.median(secs):.3f}{'' if m is not None else ' (failed)'} | "
                       f"{min(secs):.3f} | {max(secs):.3f} | {ratio} | {fmt_s(server)} | {fmt_s(client)} | {cpu_ratio} | "
                       f"{rss:.0f} | {text} | {result} |")
        for label, r, text, ok in self.extra_rows:
            out.append(f"| {label} | | | | {fmt_ratio(r)} | | | | | {text} | {'PASS' if ok else 'FAIL'} |")
        for label, (text, ok) in self.checks.items():
            out.append(f"| {label} | | | | | | | | | {text} | {'PASS' if ok else 'FAIL'} |")
        return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------- scenarios

def scenario_sizes(args):
    base = Dataset("base", 2500, args.base_days or (20 if args.quick else 200), "2023-01-02")
    new = Dataset("new", base.tickers, base.days, next_weekday(base.start, base.days))
    sets = {
        "base": base,
        "new": new,
        "new_days": Dataset("new", new.tickers, new.days, new.start, per_day=True),
        "changed": Dataset("base", base.tickers, base.days, base.start, changed=0.1),
        "nightly": Dataset("nightly", 5000, 1, next_weekday(new.start, new.days)),
        # As many rows as the base, in the months after it (no partition for them yet).
        "attach": bench_partition.attach_dataset(base),
        # The nightly's size on the weekday after the base: inside the partitioned base's last month.
        "nightly_legacy": Dataset("nightly", 5000, 1, next_weekday(base.start, base.days)),
        # The same rows as "new", as a JSON array and as NDJSON.
        "new_json": Dataset("new", new.tickers, new.days, new.start, fmt="json"),
        "new_ndjson": Dataset("new", new.tickers, new.days, new.start, fmt="ndjson"),
        # Same arguments as a base file give the same file: generated once.
        "rss100k": Dataset("base", 2500, 20, "2023-01-02"),
        "rss1m": Dataset("base", 2500, 200, "2023-01-02"),
        "rss10m": Dataset("base", 2500, 2000, "2023-01-02"),
    }
    return sets


def main():
    ap = argparse.ArgumentParser(prog="scripts/bench", description="greyoak ingest benchmarks against raw \\copy, "
                                 "staged SQL and a psycopg 3 loader on the private cluster (see BENCHMARKS.md).")
    ap.add_argument("--reps", type=int, help="runs of each command per scenario (default 3; --quick: 1)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 100k-row scenarios, 1 rep, no 1M/10M RSS")
    ap.add_argument("--scenarios", default=",".join(ALL_SCENARIOS),
                    help=f"comma-separated subset of {','.join(ALL_SCENARIOS)} (default: all)")
    ap.add_argument("--base-days", type=int, help="base and backfill: 2500 tickers x N days x 2 modes "
                    "(default 200, i.e. 1M rows; --quick: 20, i.e. 100k)")
    ap.add_argument("--big", action="store_true", help="also measure peak RSS at 10M rows (slow: ~2 GB file, minutes)")
    ap.add_argument("--out", help="also write the markdown tables to FILE")
    ap.add_argument("--update-doc", action="store_true", help="rewrite the results section of BENCHMARKS.md")
    ap.add_argument("--no-build", action="store_true", help="use the greyoak binary as it is (no swift build -c release --static-swift-stdlib)")
    ap.add_argument("--greyoak", default=str(REPO / ".build" / "release" / "greyoak"), help="greyoak binary")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the base databases even if their inputs did not change")
    ap.add_argument("--regen", action="store_true", help="regenerate the data files in bench-data/")
    ap.add_argument("--server", choices=["tuned", "defaults", "both"], default="tuned",
                    help="tuned: scripts/pg's cluster (default); defaults: a second private cluster at PostgreSQL's "
                    "defaults (no prepared transactions: greyoak's one-writer paths), started on a free port "
                    "(scripts/pg with GREYOAK_PG_PROFILE=defaults) and stopped after; both: each scenario on each")
    ap.add_argument("--command-line", help=argparse.SUPPRESS)
    args = ap.parse_args()
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = set(scenarios) - set(ALL_SCENARIOS)
    if unknown:
        ap.error(f"unknown scenario(s): {', '.join(sorted(unknown))} (known: {', '.join(ALL_SCENARIOS)})")
    reps = args.reps or (1 if args.quick else 3)
    if reps < 1:
        ap.error("--reps must be at least 1")
    command_line = args.command_line or "scripts/bench " + shlex.join(sys.argv[1:])
    started = dt.datetime.now(dt.timezone.utc)

    build_greyoak(args)
    load = os.getloadavg()[0]
    if load > 1.0:
        log(f"bench: WARNING: load average {load:.2f} on {os.cpu_count()} cores before starting: "
            "other work on this machine will skew the numbers")
    d = scenario_sizes(args)
    needs = {"backfill": ["base", "new", "new_days"], "unchanged": ["base", "new"], "changed": ["base", "changed"],
             "nightly": ["base", "nightly"], "dryrun": ["new"], "dryrunjson": ["new", "new_json", "new_ndjson"], "current": [],
             "bad-input": [], "rss": ["rss100k"] + ([] if args.quick else ["rss1m"]) + (["rss10m"] if args.big else []),
             **bench_partition.NEEDS}
    need_base = any(s in scenarios for s in ("backfill", "unchanged", "changed", "nightly", *bench_partition.SCENARIOS))
    for name in sorted({n for s in scenarios for n in needs[s]} | ({"base"} if need_base else set())):
        d[name].ensure(args.regen)

    servers = ["tuned", "defaults"] if args.server == "both" else [args.server]
    tables, ran = [], []
    for server in servers:
        started_here = None
        env = os.environ
        if server == "defaults":
            env, started_here = bench_partition.defaults_cluster()
        cluster = Cluster(env, server)
        h = Harness(args, cluster)
        settings = cluster.settings()
        check_server(cluster, h, settings)
        h.build_bases(d["base"].path if need_base else None, realistic="unchanged" in scenarios)
        if any(s in scenarios for s in bench_partition.SCENARIOS):
            bench_partition.build_templates(h, d)
        tag = f"(server: {server})" if len(servers) > 1 or server != "tuned" else ""
        for t in run_scenarios(args, h, d, scenarios, reps):
            if tag:
                t.title = t.title.replace(":", f" {tag}:", 1)
                t.verdicts = [(v.replace(":", f" {tag}:", 1), m, ok) for v, m, ok in t.verdicts]
            tables.append(t)
        cluster.drop(DB_RUN)
        shutil.rmtree(h.tmp, ignore_errors=True)
        ran.append((cluster, h, settings))
        if started_here:
            started_here()
    report(args, ran, tables, command_line, started, reps)


def check_server(cluster, h, settings):
    """The tuned cluster must be the README's configuration for parallel atomic loads; the one
    at PostgreSQL's defaults is meant to lack it."""
    if cluster.server != "tuned":
        return
    prepared = int(settings.get("max_prepared_transactions", "0"))
    if settings.get("wal_writer_delay") != "10ms":
        # A cluster made by scripts/pg before it set this keeps the default (200ms).
        log(f"bench: WARNING: wal_writer_delay is {settings.get('wal_writer_delay')}, not the 10ms scripts/pg sets and the README "
            "recommends: parallel writers will wait on WAL writes (backfill about 0.05x higher). "
            "ALTER SYSTEM SET wal_writer_delay = '10ms'; SELECT pg_reload_conf(); as a superuser sets it")
    if h.writers > 1 and prepared < h.writers:
        die(f"max_prepared_transactions is {prepared}: the README's configuration for parallel atomic loads is at least "
            f"the writer count ({h.writers}), else greyoak loads through one writer (restart the cluster with scripts/pg)")


def run_scenarios(args, h, d, scenarios, reps):
    """The tables of the chosen scenarios on h's cluster."""
    base = d["base"]
    tables = []
    n_base = base.rows
    mi = lambda n: f"{n / 1e6:g}M" if n >= 1e6 else f"{n / 1e3:g}k"

    def rel(p):
        return Path(p).relative_to(REPO)

    if "backfill" in scenarios:
        f, days = d["new"].path, d["new_days"].path
        cmds = [h.raw(f), h.staged(f), h.python(f),
                h.ingest(f, expect={"inserted": d["new"].rows, "updated": 0, "outcome": "committed", "writers": h.expect_writers}),
                h.ingest(days, key="greyoak_days", label=f"greyoak ingest, {d['new'].days} per-day files (info)",
                         expect={"inserted": d["new"].rows, "outcome": "committed"})]
        runs, _ = h.measure("backfill", cmds, DB_BASE, reps)
        t = Table(f"backfill: {mi(d['new'].rows)} new rows into a table holding {mi(n_base)}",
                  [f"file `{rel(f)}` ({size_mib(f):.0f} MiB), per-day `{rel(days)}/`; {reps} rep(s), alternating"],
                  runs, cmds, "raw", reps)
        t.target("greyoak", "raw", 0.6, "≤ 0.60x raw \\copy")
        t.target("greyoak", "python", 0.25, "≤ 0.25x (≥ 4x faster than Python)", "greyoak / Python loader")
        tables.append(t)

    if "unchanged" in scenarios:
        f = d["base"].path
        states = [(DB_LOADED, "loaded", "right after the load (no VACUUM)"),
                  (DB_VACUUMED, "vacuumed", "after a plain VACUUM"),
                  (DB_BASE, "frozen", "after VACUUM (FREEZE, ANALYZE)")]
        expect = {"inserted": 0, "updated": 0, "unchanged": n_base, "outcome": "committed", "writers": h.expect_writers}
        cmds = [h.raw(d["new"].path, label=f"raw \\copy of the backfill file ({mi(d['new'].rows)} new rows, ref)")]
        for db, key, text in states:
            cmds.append(h.ingest(f, key=f"greyoak_{key}", label=f"greyoak ingest, {text}", expect=expect, template=db))
            cmds.append(h.staged(f, key=f"staged_{key}", label=f"staged SQL, {text}", template=db))
        cmds.append(h.python(f))

        def no_write(cmd):
            if cmd.key == "raw":
                return "backfill reference"
            base = h.base_stats[cmd.template or DB_BASE]
            s = h.table_stats(DB_RUN)
            same = s["max_updated_at"] == base["max_updated_at"] and s["total_size"] == base["total_size"]
            verdicts.setdefault(cmd.key, []).append(same)
            return ("no row written" if same else
                    f"WRITTEN: max(updated_at) {s['max_updated_at']}, size {base['total_size']} -> {s['total_size']}")
        verdicts = {}
        runs, _ = h.measure("unchanged", cmds, DB_BASE, reps, after=no_write)
        st = lambda db: h.base_stats[db]
        t = Table(f"unchanged: re-ingest the same {mi(n_base)} rows, in three table states",
                  [f"file `{rel(f)}` (the base itself); reference: raw \\copy of the backfill's {mi(d['new'].rows)} "
                   f"new rows into the frozen base; {reps} rep(s), alternating across the states",
                   f"loaded: the base written by `greyoak ingest` ({h.writers} writers) into the empty schema, then nothing: "
                   f"hint bits not set, relallvisible {st(DB_LOADED)['relallvisible']} of {st(DB_LOADED)['relpages']} pages, no statistics",
                   f"vacuumed: that, then `VACUUM scores` (relallvisible {st(DB_VACUUMED)['relallvisible']} of "
                   f"{st(DB_VACUUMED)['relpages']} pages, no ANALYZE); frozen: the base by \\copy, then VACUUM (FREEZE, ANALYZE)",
                   "no-write check after each run: max(updated_at) and pg_total_relation_size('scores') as in its base"],
                  runs, cmds, "raw", reps)
        for db, key, text in states:
            t.target(f"greyoak_{key}", "raw", 0.35, "≤ 0.35x backfill raw \\copy")
        for key in [c.key for c in cmds if c.key != "raw"]:
            v = verdicts.get(key, [])
            ok = bool(v) and all(v)
            if key.startswith("greyoak"):
                label = t.label(key)
                t.checks[f"{label}: no row written"] = ("updated_at and table size unchanged", ok)
                t.verdicts.append((f"unchanged: {label} writes no row", "yes" if ok else "no", ok))
            else:
                t.notes.append(f"{t.label(key)}: {'no row written' if ok else 'rows written (or run failed)'}")
        tables.append(t)

    if "changed" in scenarios:
        f = d["changed"].path
        cmds = [h.staged(f), h.python(f),
                h.ingest(f, expect={"inserted": 0, "updated": d["changed"].changed_rows, "outcome": "committed"})]
        runs, _ = h.measure("changed", cmds, DB_BASE, reps)
        t = Table(f"changed: re-ingest {mi(n_base)} rows, {d['changed'].changed_rows:,} of them changed",
                  [f"file `{rel(f)}` (`--changed-fraction 0.1`); no target; {reps} rep(s), alternating"],
                  runs, cmds, "staged", reps)
        tables.append(t)

    if "nightly" in scenarios:
        f = d["nightly"].path
        cmds = [h.raw(f), h.staged(f), h.python(f),
                h.ingest(f, expect={"inserted": d["nightly"].rows, "outcome": "committed", "writers": h.expect_writers})]
        runs, _ = h.measure("nightly", cmds, DB_BASE, reps)
        t = Table(f"nightly: {mi(d['nightly'].rows)} rows into a table holding {mi(n_base)}, process start to exit",
                  [f"file `{rel(f)}` ({d['nightly'].tickers} tickers x 1 day x 2 modes); {reps} rep(s), alternating"],
                  runs, cmds, "raw", reps)
        t.target("greyoak", "raw", 1.0, "≤ 1.00x raw \\copy")
        t.target("greyoak", "python", 0.25, "≤ 0.25x (≥ 4x faster than Python)", "greyoak / Python loader")
        tables.append(t)

    if "dryrun" in scenarios:
        f = d["new"].path
        cmds = [h.parse_only(f), h.ingest(f, label="greyoak ingest --dry-run",
                                         expect={"rows_read": d["new"].rows, "rejected": 0, "outcome": "dry run"}, dry_run=True)]
        runs, _ = h.measure("dryrun", cmds, DB_EMPTY, reps)
        t = Table(f"dry run: parse and validate {mi(d['new'].rows)} rows",
                  [f"file `{rel(f)}`; reference: the server parsing the same CSV into an unlogged table without "
                   f"indexes (same column types); {reps} rep(s), alternating"], runs, cmds, "parse", reps)
        t.target("greyoak", "parse", 0.3, "≤ 0.30x server parsing")
        tables.append(t)

    if "dryrunjson" in scenarios:
        f, fj, fn = d["new"].path, d["new_json"].path, d["new_ndjson"].path
        expect = {"rows_read": d["new"].rows, "rejected": 0, "outcome": "dry run"}
        cmds = [h.ingest(f, key="csv", label="greyoak ingest --dry-run (CSV)", expect=expect, dry_run=True),
                h.ingest(fj, key="json", label="greyoak ingest --dry-run (JSON array)", expect=expect, dry_run=True),
                h.ingest(fn, key="ndjson", label="greyoak ingest --dry-run (NDJSON)", expect=expect, dry_run=True)]
        runs, _ = h.measure("dryrunjson", cmds, DB_EMPTY, reps)
        t = Table(f"dry run by format: parse and validate the same {mi(d['new'].rows)} rows as CSV, JSON, NDJSON",
                  [f"files `{rel(f)}`, `{rel(fj)}`, `{rel(fn)}` (gen-scores, same rows); {reps} rep(s), alternating"],
                  runs, cmds, "csv", reps)
        t.target("json", "csv", 2.0, "≤ 2.00x the CSV dry run")
        t.target("ndjson", "csv", 2.0, "≤ 2.00x the CSV dry run")
        tables.append(t)

    if "rss" in scenarios:
        sizes = ["rss100k"] + ([] if args.quick else ["rss1m"]) + (["rss10m"] if args.big else [])
        cmds = [h.ingest(d[s].path, key=s, label=f"greyoak ingest {mi(d[s].rows)} rows",
                         expect={"inserted": d[s].rows, "outcome": "committed"}) for s in sizes]
        runs = {}
        for c in cmds:  # each size into an empty table; 10M once (slow)
            r, _ = h.measure("rss", [c], DB_EMPTY, 1 if c.key == "rss10m" else reps)
            runs.update(r)
        t = Table("peak RSS of greyoak ingest (into an empty table)",
                  [f"files {', '.join(f'`{rel(d[s].path)}`' for s in sizes)}; /usr/bin/time -f %M; "
                   f"{'10M: 1 run; ' if args.big else '10M: not measured (needs --big); '}ratio: to the smallest"],
                  runs, cmds, sizes[0], reps)
        rss_targets(t, cmds, runs, "RSS")
        tables.append(t)

    if "bad-input" in scenarios:
        # The hostile file: a valid header, then lines that each read "," (every row
        # too short), in the three modes; memory must not grow with the bad rows.
        n = 500_000 if args.quick else 5_000_000
        f = bad_input_file(n)
        rejects = h.tmp / "rejects.jsonl"
        refused = {"rows_read": n, "rejected": n, "outcome": "rolled back"}
        cmds = [h.ingest(f, key="default", label="greyoak ingest (refused)", expect=refused, status=9),
                h.ingest(f, key="dryrun", label="greyoak ingest --dry-run (refused)", expect=refused, dry_run=True, status=9),
                h.ingest(f, key="rejects", label=f"greyoak ingest --max-errors {n} --rejects FILE",
                         expect={"rows_read": n, "rejected": n, "inserted": 0, "outcome": "committed"},
                         extra=["--max-errors", str(n), "--rejects", str(rejects)])]

        def rejects_file(cmd):
            if cmd.key != "rejects":
                return "-"
            with open(rejects, "rb") as lines:
                count = sum(1 for _ in lines)
            rejects.unlink(missing_ok=True)
            return f"{count} rejects lines"

        runs, extra = h.measure("bad-input", cmds, DB_EMPTY, reps, after=rejects_file)
        t = Table(f"peak RSS on bad input: {mi(n)} lines of \",\" after a valid header",
                  [f"file `{rel(f)}` ({size_mib(f):.0f} MiB); /usr/bin/time -f %M; {reps} rep(s); "
                   "every row is rejected (too few fields)"], runs, cmds, "default", reps)
        rss_targets(t, cmds, runs, "bad input")
        lines = extra["rejects"]
        ok = bool(lines) and all(v == f"{n} rejects lines" for v in lines)
        t.checks[f"rejects file of --max-errors {n}"] = (f"{n} lines ({', '.join(lines) or 'not run'})", ok)
        t.verdicts.append((f"bad input: the rejects file has {n} lines", ", ".join(lines), ok))
        tables.append(t)

    if "current" in scenarios:
        alembic = subprocess.run([str(REPO / "scripts" / "alembic-venv")], capture_output=True, text=True)
        if alembic.returncode != 0:
            die(f"scripts/alembic-venv failed:\n{alembic.stderr}")
        head = "183eb85141bf (head)"
        heads = subprocess.run([h.greyoak, "db", "heads", "--migrations", str(MIGRATIONS)], capture_output=True, text=True)
        if heads.returncode == 0 and heads.stdout.strip():
            head = heads.stdout.strip().splitlines()[0]
        cmds = [Command("alembic", "alembic current", [alembic.stdout.strip(), "-c",
                                                        str(REPO / "Tests" / "alembic-compat" / "alembic.ini"), "current"],
                        stdout_check=head),
                Command("greyoak", "greyoak db current", [h.greyoak, "db", "current", "--migrations", str(MIGRATIONS)],
                        stdout_check=head)]
        n = max(10, reps)
        runs, _ = h.measure("current", cmds, DB_EMPTY, n, reset_each=False)
        t = Table("db current: greyoak vs Alembic on the same database at head",
                  [f"{n} reps, alternating, same database (read only); no target"], runs, cmds, "alembic", n)
        tables.append(t)

    tables += bench_partition.run(args, h, d, scenarios, reps)
    return tables


def rss_targets(t, cmds, runs, what):
    """Each command's peak RSS must stay under 64 MiB."""
    for c in cmds:
        rs = runs[c.key]
        peak = max(r.rss_kib for r in rs) / 1024
        ok = all(r.ok for r in rs) and 0 < peak < 64
        t.targets[c.key] = ("< 64 MiB", ok)
        t.verdicts.append((f"{what}: {c.label} < 64 MiB", f"{peak:.0f} MiB", ok))


def bad_input_file(n):
    """A valid header, then n lines that each read "," (generated once into bench-data/)."""
    path = DATA / f"bad-commas-{n}.csv"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w") as out:
            out.write("ticker,scoring_date,mode\n")
            for _ in range(n // 100_000):
                out.write(",\n" * 100_000)
            out.write(",\n" * (n % 100_000))
        tmp.rename(path)
    return path


def build_greyoak(args):
    binary = Path(args.greyoak)
    if args.no_build:
        if not os.access(binary, os.X_OK):
            die(f"{binary} is missing (drop --no-build to build it)")
        return
    if binary == REPO / ".build" / "release" / "greyoak":
        sources = [p for p in (REPO / "Sources").rglob("*") if p.is_file()]
        sources += [REPO / "Package.swift"] + ([REPO / "Package.resolved"] if (REPO / "Package.resolved").exists() else [])
        newest = max(p.stat().st_mtime for p in sources)
        if not binary.exists() or binary.stat().st_mtime < newest:
            log("bench: swift build -c release --static-swift-stdlib (the release binary is missing or older than the sources)")
            p = subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "greyoak"], cwd=REPO)
            if p.returncode != 0:
                die("swift build -c release failed (use --no-build to benchmark the existing binary)")
    if not os.access(binary, os.X_OK):
        die(f"{binary} is not executable")


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def server_line(cluster, h, settings):
    prepared = settings.get("max_prepared_transactions")
    if cluster.server == "tuned":
        return (f"- {cluster.server} (scripts/pg's cluster): {h.writers} writers and two-phase commit, the README's "
                f"configuration for parallel atomic loads (max_prepared_transactions {prepared} ≥ writers; each load's "
                f"JSON summary is checked for writers = {h.expect_writers})")
    return (f"- {cluster.server} (`GREYOAK_PG_PROFILE=defaults scripts/pg`: a second cluster at PostgreSQL's defaults, "
            f"max_prepared_transactions {prepared}): today's load paths run one writer (checked: writers = "
            f"{h.expect_writers}); partitions created by a load may use all {h.writers}")


def report(args, ran, tables, command_line, started, reps):
    """ran: (cluster, harness, settings) per server, in the order they ran."""
    verdicts = [v for t in tables for v in t.verdicts]
    passed = sum(1 for v in verdicts if v[2])
    h = ran[0][1]
    loads = [x for _, hh, _ in ran for x in hh.loads]
    binary = Path(args.greyoak)
    commit, dirty = h.commit, h.dirty
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    mem = sh("free -h | awk '/^Mem:/ {print $2}'")
    lines = [
        f"Run **{started:%Y-%m-%d %H:%M} UTC**, {(dt.datetime.now(dt.timezone.utc) - started).total_seconds() / 60:.0f} min, "
        f"with `{command_line}`.",
        "",
        f"- greyoak: commit `{commit}`{' with uncommitted changes in Sources/' if dirty else ''}, "
        f"binary `{binary.relative_to(REPO) if binary.is_relative_to(REPO) else binary}` built "
        f"{dt.datetime.fromtimestamp(h.greyoak_mtime, dt.timezone.utc):%Y-%m-%d %H:%M} UTC "
        f"(sha256 {h.greyoak_sha}, copied before the first run), default settings (`--no-progress --json`)",
        *[server_line(c, hh, st) for c, hh, st in ran],
        f"- machine: {sh('nproc')} cores ({cpu or platform.machine()}), {mem} RAM (`free -h`), "
        f"Linux {sh('uname -r')}, {sh('psql -V')}, Python {platform.python_version()}, "
        f"psycopg {sh(shlex.quote(str(VENV_PY)) + ' -c ' + shlex.quote('import psycopg; print(psycopg.__version__)'))}",
        *[f"- server {c.server}: " + ", ".join(f"{k} {v}" for k, v in st.items()) for c, _, st in ran],
        f"- 1-minute load average just before each timed run: min {min(loads, default=0):.2f}, "
        f"median {statistics.median(loads or [0]):.2f}, max {max(loads, default=0):.2f} on {os.cpu_count()} cores "
        "(other sessions share this machine and cluster; above ~1 the numbers are noisy)",
        "",
        f"**Targets: {passed} of {len(verdicts)} pass.**",
        "",
        "| target | measured | result |",
        "|---|---:|---|",
        *[f"| {d} | {m} | {'PASS' if ok else 'FAIL'} |" for d, m, ok in verdicts],
        "",
        "ratio = median / the reference command's median (marked ref), same scenario, same run. "
        "server CPU = CPU seconds of all server processes during the run (the postmaster's children, exited ones "
        "included), client CPU = user + system of the command; CPU ratio = (server + client CPU) / the reference's: "
        "unlike wall time it does not move with what else runs on the machine, but counts CPU only (not I/O waits, "
        "nor what runs in parallel).",
        "",
    ]
    for t in tables:
        lines.append(t.markdown())
    md = "\n".join(lines)
    print(md)
    RESULTS.mkdir(exist_ok=True)
    stamp = f"{started:%Y%m%dT%H%M%SZ}"
    (RESULTS / f"{stamp}.md").write_text(md)
    (RESULTS / f"{stamp}.json").write_text(json.dumps({
        "started": started.isoformat(), "command": command_line, "settings": {c.server: st for c, _, st in ran},
        "scenarios": {t.title: {k: [r.__dict__ for r in rs] for k, rs in t.runs.items()} for t in tables}}, indent=1))
    log(f"bench: raw results in {(RESULTS / stamp).relative_to(REPO)}.json")
    if args.out:
        Path(args.out).write_text(md)
    if args.update_doc:
        text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{DOC_START}\n{DOC_END}\n"
        if DOC_START not in text or DOC_END not in text:
            die(f"{DOC.name} lacks the markers {DOC_START} ... {DOC_END}")
        head, rest = text.split(DOC_START, 1)
        _, tail = rest.split(DOC_END, 1)
        DOC.write_text(f"{head}{DOC_START}\n\n{md}\n{DOC_END}{tail}")
        log(f"bench: updated {DOC.name}")


if __name__ == "__main__":
    main()
