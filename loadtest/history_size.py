#!/usr/bin/env python3
"""How big the metric history gets per container: fills an SQLite file with the server's schema
(migration 5) at the retention steady state — raw 30-s samples for 2 days, 5-minute rollups for 30 days,
hourly rollups for a year — for the six container metrics, and prints the bytes per container.

    python3 loadtest/history_size.py [containers]
"""

import os
import random
import sqlite3
import sys
import tempfile

SCHEMA = """
CREATE TABLE metric_series (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, subject TEXT NOT NULL,
    metric TEXT NOT NULL, UNIQUE (kind, subject, metric));
CREATE TABLE metric_points (series_id BIGINT NOT NULL REFERENCES metric_series(id) ON DELETE CASCADE,
    resolution INTEGER NOT NULL, bucket BIGINT NOT NULL, min_value REAL NOT NULL, avg_value REAL NOT NULL,
    max_value REAL NOT NULL, samples INTEGER NOT NULL, PRIMARY KEY (series_id, resolution, bucket));
CREATE INDEX metric_points_age ON metric_points (resolution, bucket);
"""
TIERS = [(0, 30_000, 2 * 86_400 // 30), (300, 300_000, 30 * 288), (3600, 3_600_000, 365 * 24)]
METRICS = ["cpu_percent", "memory_bytes", "network_rx_bytes_per_second", "network_tx_bytes_per_second",
           "block_read_bytes_per_second", "block_write_bytes_per_second"]


def main():
    containers = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    path = os.path.join(tempfile.mkdtemp(), "history.sqlite")
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    rows = 0
    start = 1_795_300_000_000
    for c in range(containers):
        for metric in METRICS:
            sid = db.execute("INSERT INTO metric_series (kind, subject, metric) VALUES ('container', ?, ?)",
                             (f"container-{c}", metric)).lastrowid
            points = []
            for resolution, step, count in TIERS:
                for i in range(count):
                    v = random.random() * 1e6
                    points.append((sid, resolution, start + i * step, v * 0.5, v, v * 1.5, 1 if resolution == 0 else 10))
            db.executemany("INSERT INTO metric_points VALUES (?, ?, ?, ?, ?, ?, ?)", points)
            rows += len(points)
    db.commit()
    db.execute("VACUUM")
    db.close()
    size = os.path.getsize(path)
    print(f"{containers} containers, {rows} points, {size / 1e6:.1f} MB: {size / containers / 1e6:.1f} MB per container "
          f"({size / rows:.0f} bytes per point)")


if __name__ == "__main__":
    main()
