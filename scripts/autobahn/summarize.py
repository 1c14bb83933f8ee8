#!/usr/bin/env python3
"""Summarize an Autobahn|Testsuite fuzzingclient report directory.

    summarize.py REPORT_DIR [--expected N] [--verbose]

Reads REPORT_DIR/index.json ({agent: {case: {behavior, behaviorClose, ...}}}),
prints one line per case that is not a clean pass (FAILED ones first) and a
final line exactly of the form

    autobahn: N passed, M failed

Classification (matches the colours of Autobahn's own HTML report):
  behavior       pass: OK, NON-STRICT, INFORMATIONAL, UNIMPLEMENTED
                 fail: FAILED, NO_CLOSE and anything unknown
  behaviorClose  pass: OK, INFORMATIONAL, UNIMPLEMENTED, NON-STRICT,
                       WRONG CODE (non-strict), FAILED BY CLIENT ("almost")
                 fail: FAILED, UNCLEAN and anything unknown
A case fails if either field fails. With --expected N, cases that wstest was
asked to run but that have no result (e.g. the server died) count as failed.

Exit status: 0 if nothing failed, 1 if anything failed or there are no results.
"""
import argparse
import json
import os
import sys

PASS_BEHAVIOR = {"OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED"}
PASS_CLOSE = {"OK", "INFORMATIONAL", "UNIMPLEMENTED", "NON-STRICT", "WRONG CODE", "FAILED BY CLIENT"}


def case_key(case_id):
    return tuple(int(p) if p.isdigit() else p for p in case_id.split("."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reports")
    ap.add_argument("--expected", type=int, default=None,
                    help="number of cases wstest was asked to run")
    ap.add_argument("--verbose", action="store_true",
                    help="also list INFORMATIONAL / WRONG CODE / FAILED BY CLIENT cases")
    args = ap.parse_args()

    index_path = os.path.join(args.reports, "index.json")
    try:
        with open(index_path) as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        print(f"autobahn: no results: cannot read {index_path}: {e}")
        print(f"autobahn: 0 passed, {args.expected or 0} failed")
        return 1

    passed = failed = 0
    fail_lines, note_lines = [], []
    total = 0
    for agent in sorted(index):
        for case_id in sorted(index[agent], key=case_key):
            r = index[agent][case_id]
            total += 1
            b, bc = r.get("behavior", "?"), r.get("behaviorClose", "?")
            desc = (f"case {case_id} [{agent}]: behavior={b} behaviorClose={bc} "
                    f"closeCode={r.get('remoteCloseCode')} "
                    f"({r.get('duration', '?')} ms, {r.get('reportfile', '')})")
            if b in PASS_BEHAVIOR and bc in PASS_CLOSE:
                passed += 1
                if b in ("NON-STRICT", "UNIMPLEMENTED") or (
                        args.verbose and (b != "OK" or bc != "OK")):
                    note_lines.append(f"{b if b != 'OK' else bc:<13} {desc}")
            else:
                failed += 1
                fail_lines.append(f"FAILED        {desc}")

    for line in fail_lines + note_lines:
        print(line)

    if total == 0:
        print(f"autobahn: no results in {index_path} (did wstest connect?)")
        print(f"autobahn: 0 passed, {args.expected or 0} failed")
        return 1

    if args.expected is not None and args.expected > total:
        missing = args.expected - total
        print(f"MISSING       {missing} of {args.expected} requested cases have no result "
              "(server unreachable or crashed mid-run?)")
        failed += missing

    print(f"autobahn: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
