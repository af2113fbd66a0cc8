"""``personavlm repair``: set the embedded store's damaged records aside, keep every intact
one, and name what could not be recovered."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent_runtime.context import data_home
from memory_graph.backends.journal_repair import RepairReport
from memory_graph.backends.networkx_store import NetworkxStore
from personavlm.commands.damage import damage_line, unrecovered_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--location", default="",
                        help="data dir of the embedded store; default $PERSONAVLM_DATA/memory")


def run(args: argparse.Namespace) -> int:
    root = Path(args.location).expanduser() if args.location else data_home() / "memory"
    store = NetworkxStore(root)
    try:
        damaged = store.scan_damage()
        if not damaged:
            print(f"{root}: nothing is damaged")
            return 0
        for name, error in damaged.items():
            print(damage_line(name, error))
        unrepaired = 0
        for report in store.repair():
            unrepaired += print_report(report)
    finally:
        store.close()
    return 1 if unrepaired else 0


def print_report(report: RepairReport) -> int:
    """Print what a user's repair did; the number of its failures."""
    name = report.directory.name
    if report.unreadable is not None:
        print(f"could not repair users/{name}: {report.unreadable}", file=sys.stderr)
        return 1
    print(f"repaired {report.directory}: kept {report.kept_records} log records, "
          f"set aside {report.quarantined_records}"
          + (", the snapshot" if report.quarantined_snapshot else "")
          + (", the user file" if report.quarantined_user_file else "")
          + (", the acknowledgement file" if report.quarantined_acks else "")
          + (f"; cut a torn tail of {report.torn_bytes} bytes" if report.torn_bytes else "")
          + (f"; dropped {report.dropped_edges} edges to lost nodes"
             if report.dropped_edges else "")
          + (f" -> {report.quarantine_file}" if report.quarantine_file else ""))
    for missing in report.unrecovered:
        print(unrecovered_line(name, missing), file=sys.stderr)
    if report.unknown is not None:
        print(f"warning: users/{name}: {report.unknown}", file=sys.stderr)
    return len(report.unrecovered)
