#!/usr/bin/env python3
"""Reference loader for scripts/bench: what a competent Python team would write with psycopg 3.

    bench_loader.py [--database-url URL] FILE.csv...

Reads each CSV with the csv module, validates every row the way greyoak does in spirit
(required key, ticker shape, dates, modes, score ranges, finite z-scores with |z| <= 10,
known bands and guardrails, final_score = max(0, weighted - risk) with the Investor
SectorBear penalty, band vs thresholds with guardrail capping, duplicate keys), streams the
good rows into a temporary table with COPY (cursor.copy() + write_row, no per-row queries),
then upserts with INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE IS DISTINCT FROM,
all in one transaction. Any invalid row rolls everything back (exit 9), like greyoak.

Needs psycopg 3 (scripts/bench installs it into .venv-bench). The connection comes from
--database-url, else DATABASE_URL; libpq reads the password from PGPASSFILE.
"""

import argparse
import csv
import datetime as dt
import json
import math
import os
import re
import sys
import time

import psycopg

COLUMNS = ("ticker scoring_date mode f_score t_score r_score o_score q_score s_score "
           "weighted_score risk_penalty final_score band guardrails as_of "
           "f_z t_z r_z o_z q_z s_z").split()
KEY = COLUMNS[:3]
VALUES = COLUMNS[3:]
PILLARS = ("f_score", "t_score", "r_score", "o_score", "q_score", "s_score")
ZS = ("f_z", "t_z", "r_z", "o_z", "q_z", "s_z")
MODES = {"trader": "Trader", "investor": "Investor"}
BANDS = ("Strong Buy", "Buy", "Hold", "Avoid")
BAND_INDEX = {b: i for i, b in enumerate(BANDS)}
# Engine order, which is also the stored order.
GUARDRAILS = ("LowDataHold", "Illiquidity", "PledgeCap", "HighRiskCap", "SectorBear", "LowCoverage")
GUARD_INDEX = {g.lower(): i for i, g in enumerate(GUARDRAILS)}
TICKER = re.compile(r"[A-Z0-9&-]+(\.[A-Z]{2,3})?")

STRONG_BUY_AT, BUY_AT, HOLD_AT = 75.0, 65.0, 50.0
MAX_ABS_Z = 10.0
RISK_MAX = 20.0
SECTOR_BEAR_PENALTY = 5.0
TOLERANCE = 0.015
MAX_REPORT = 20


class RowError(Exception):
    def __init__(self, column, value, rule):
        super().__init__(f"{column} {value!r} {rule}")


def number(text, column, lo=None, hi=None):
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise RowError(column, text, "is not a number") from None
    if not math.isfinite(value):
        raise RowError(column, text, "is not a finite number")
    if lo is not None and not lo <= value <= hi:
        raise RowError(column, text, f"is outside [{lo:g}, {hi:g}]")
    return value


def timestamp(text, column):
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise RowError(column, text, "is not a date (YYYY-MM-DD or an ISO 8601 date-time)") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def guardrail_mask(text):
    text = text.strip()
    if text.startswith("["):
        try:
            names = json.loads(text)
        except ValueError:
            raise RowError("guardrails", text, "is not a list of guardrails") from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise RowError("guardrails", text, "is not a list of guardrails")
    else:
        names = re.split(r"[;|,]", text)
    mask = 0
    for name in names:
        name = name.strip()
        if not name:
            continue
        index = GUARD_INDEX.get(name.lower())
        if index is None:
            raise RowError("guardrails", name, "unknown guardrail")
        mask |= 1 << index
    return mask


GUARD_TEXT = ['[' + ",".join(f'"{g}"' for i, g in enumerate(GUARDRAILS) if m & (1 << i)) + ']' for m in range(64)]
SECTOR_BEAR = 1 << GUARDRAILS.index("SectorBear")


def validate(raw, seen):
    """One CSV row (dict column -> text) to the tuple to COPY, or RowError."""
    ticker = raw["ticker"].strip().upper()
    if not ticker:
        raise RowError("ticker", "", "is required")
    if len(ticker) > 20 or not TICKER.fullmatch(ticker):
        raise RowError("ticker", ticker, "is not a ticker")
    if not raw["scoring_date"]:
        raise RowError("scoring_date", "", "is required")
    date = timestamp(raw["scoring_date"], "scoring_date")
    mode = MODES.get(raw["mode"].lower())
    if mode is None:
        raise RowError("mode", raw["mode"], "is not a mode (Trader, Investor)")
    pillars = [number(raw[c], c, 0.0, 100.0) for c in PILLARS]
    weighted = number(raw["weighted_score"], "weighted_score", 0.0, 100.0)
    risk = number(raw["risk_penalty"], "risk_penalty", 0.0, RISK_MAX)
    final = number(raw["final_score"], "final_score", 0.0, 100.0)
    zs = []
    for c in ZS:
        z = number(raw[c], c)
        if z is not None and abs(z) > MAX_ABS_Z:
            raise RowError(c, raw[c], f"|z| exceeds {MAX_ABS_Z:g}")
        zs.append(z)
    band_text = raw["band"]
    band = None
    if band_text:
        band = BAND_INDEX.get(band_text)
        if band is None:
            raise RowError("band", band_text, "is not a band")
    mask = guardrail_mask(raw["guardrails"]) if raw["guardrails"] else None
    as_of = timestamp(raw["as_of"], "as_of") if raw["as_of"] else None

    bear = mode == "Investor" and (mask or 0) & SECTOR_BEAR
    if weighted is not None and risk is not None and final is not None:
        expected = max(0.0, weighted - risk)
        if bear:
            expected = max(0.0, expected - SECTOR_BEAR_PENALTY)
        if abs(final - expected) > TOLERANCE:
            raise RowError("final_score", raw["final_score"],
                           f"does not equal max(0, weighted_score - risk_penalty) = {expected:.2f}")
    if band is not None and final is not None:
        expected = 0 if final >= STRONG_BUY_AT else 1 if final >= BUY_AT else 2 if final >= HOLD_AT else 3
        m = mask or 0
        if (m & ~SECTOR_BEAR) or (m & SECTOR_BEAR and mode == "Trader"):
            expected = max(expected, 2)
        if band != expected:
            raise RowError("band", band_text, f"does not match final_score {final:.2f}: expected {BANDS[expected]}")

    key = (ticker, date, mode)
    if key in seen:
        raise RowError("ticker", ticker, f"duplicate key ({ticker}, {date:%Y-%m-%d}, {mode})")
    seen.add(key)
    return (ticker, date, mode, *pillars, weighted, risk, final,
            BANDS[band] if band is not None else None,
            GUARD_TEXT[mask] if mask is not None else None, as_of, *zs)


def upsert_sql():
    cols = ", ".join(COLUMNS)
    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in VALUES)
    old = ", ".join(f"scores.{c}" for c in VALUES)
    new = ", ".join(f"EXCLUDED.{c}" for c in VALUES)
    return (f"INSERT INTO scores ({cols}) SELECT {cols} FROM stage "
            f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {sets}, updated_at = now() "
            f"WHERE ({old}) IS DISTINCT FROM ({new})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = ap.parse_args()
    started = time.perf_counter()

    rows = rejected = 0
    errors = []
    seen = set()
    with psycopg.connect(args.database_url) as conn:  # one transaction; commits on success
        with conn.cursor() as cur:
            cur.execute("SET temp_buffers = '256MB'")
            cur.execute(f"CREATE TEMPORARY TABLE stage ON COMMIT DROP AS "
                        f"SELECT {', '.join(COLUMNS)} FROM scores WITH NO DATA")
            with cur.copy(f"COPY stage ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for path in args.files:
                    with open(path, newline="", encoding="utf-8") as f:
                        reader = csv.DictReader(f)
                        unknown = set(reader.fieldnames or ()) - set(COLUMNS)
                        if unknown or not set(KEY) <= set(reader.fieldnames or ()):
                            sys.exit(f"{path}: unknown field(s) {sorted(unknown)} or missing key columns")
                        missing = [c for c in COLUMNS if c not in reader.fieldnames]
                        for raw in reader:
                            rows += 1
                            for c in missing:
                                raw[c] = ""
                            try:
                                good = validate(raw, seen)
                            except RowError as e:
                                rejected += 1
                                if len(errors) < MAX_REPORT:
                                    errors.append(f"{path}:{reader.line_num}: {e}")
                                continue
                            if not rejected:
                                copy.write_row(good)
            if rejected:
                conn.rollback()
                print("\n".join(errors), file=sys.stderr)
                print(f"nothing was loaded: {rejected} of {rows} rows are invalid", file=sys.stderr)
                sys.exit(9)
            cur.execute(upsert_sql())
            written = cur.rowcount
    seconds = time.perf_counter() - started
    print(json.dumps({"files": len(args.files), "rows_read": rows, "written": written,
                      "unchanged": rows - written, "seconds": round(seconds, 3)}))


if __name__ == "__main__":
    main()
