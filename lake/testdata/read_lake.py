"""Reads a ShopEase lake with pyarrow alone and prints, as JSON, per dataset the row count, the
column types, and for transactions the exact money sums per UTC month and type (Decimal → string).

Usage: python read_lake.py LAKE_DIR
"""
import collections
import json
import sys

import pyarrow.compute as pc
import pyarrow.dataset as pads


def main(lake):
    out = {}
    for name in ("transactions", "activity", "inventory", "feedback"):
        try:
            ds = pads.dataset(f"{lake}/events/{name}", format="parquet", partitioning="hive")
        except FileNotFoundError:
            continue
        table = ds.to_table()
        info = {"rows": table.num_rows, "types": {f.name: str(f.type) for f in table.schema}}
        if name == "transactions":
            sums = collections.defaultdict(lambda: collections.Counter())
            months = pc.strftime(table["event_time"], format="%Y-%m").to_pylist()
            for month, typ, amount in zip(months, table["type"].to_pylist(), table["amount"].to_pylist()):
                sums[month][typ] += amount  # decimal.Decimal: exact
            info["sums"] = {m: {t: str(v) for t, v in c.items()} for m, c in sorted(sums.items())}
        out[name] = info
    json.dump(out, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
