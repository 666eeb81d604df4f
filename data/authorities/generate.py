"""Generate sitefinder/data/authorities.csv: England's local authorities in three forms.

Source: the DfE "Education, health and care plans" (SEN2) 2025 release, caseload file
``ehcp2025_caseload_all_LAs.csv`` (OGL v3): every ``Local authority`` row of the latest period
gives ``la_name``, ``new_la_code`` (the GSS code the DfE uses) and ``old_la_code`` (the DfE's
three-digit LA number, GIAS ``LA (code)``).

Where the DfE still files a reorganised authority under its county code, the ONS code of the
unitary authority is added as ``ons_code``, so that ONS files (population, LSOA boundaries,
ONSPD ``laua``), which carry the new code, match too. Source: ONS Register of Geographic Codes
(Buckinghamshire unitary E06000060 from April 2020; North Yorkshire E06000065 and Somerset
E06000066 from April 2023).

Run: ``python data/authorities/generate.py PATH/TO/ehcp2025_caseload_all_LAs.csv``. The output
is sorted and byte-for-byte reproducible.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

OUTPUT = Path(__file__).resolve().parents[2] / "sitefinder" / "data" / "authorities.csv"
ONS_CODES = {"E10000002": "E06000060", "E10000023": "E06000065", "E10000027": "E06000066"}


def authorities(caseload: Path) -> pd.DataFrame:
    """One row per authority in the latest period: name, gss_code, la_code, ons_code."""
    table = pd.read_csv(caseload, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rows = table[table["geographic_level"] == "Local authority"]
    rows = rows[rows["time_period"] == rows["time_period"].max()]
    out = (
        rows[["la_name", "new_la_code", "old_la_code"]]
        .drop_duplicates()
        .rename(columns={"la_name": "name", "new_la_code": "gss_code", "old_la_code": "la_code"})
        .sort_values("gss_code")
        .reset_index(drop=True)
    )
    out["ons_code"] = out["gss_code"].map(ONS_CODES).fillna("")
    if out["gss_code"].duplicated().any() or out["la_code"].duplicated().any():
        raise SystemExit(f"{caseload}: an authority appears twice in the latest period")
    return out


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python data/authorities/generate.py ehcp2025_caseload_all_LAs.csv")
    table = authorities(Path(sys.argv[1]))
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(OUTPUT, index=False, lineterminator="\n")
    print(f"{OUTPUT}: {len(table)} authorities")


if __name__ == "__main__":
    main()
