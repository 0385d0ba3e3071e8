"""Pass+ campaign dates: data the hub holds, not dates written in the gates' code.

``passplus.toml`` in the hub's data folder lists them; without it the usual
shape applies (tickets generated until 30 June, redeemable until 30 June of
the next year) for every campaign year.

```toml
[[campaign]]
name = "2025-2026"
generated_until = 2026-06-30
redeemable_until = 2027-06-30
```
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

from firmware.protocol.passplus import Campaign

FILE_NAME = "passplus.toml"
FIRST_YEAR = 2023  # Pass+ began with the 2022-2023 campaign


class CampaignError(ValueError):
    """passplus.toml cannot be used; the message names the file and the key."""


def load(data_dir: Path, today: date) -> list[Campaign]:
    path = data_dir / FILE_NAME
    if not path.exists():
        return [Campaign.yearly(year) for year in range(FIRST_YEAR, today.year + 2)]
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CampaignError(f"{path}: cannot be read: {exc}") from None
    unknown = set(data) - {"campaign"}
    if unknown:
        raise CampaignError(f"{path}: unknown key {sorted(unknown)[0]!r} (allowed: campaign)")
    campaigns = []
    for index, table in enumerate(data.get("campaign", []), start=1):
        where = f"{path}: campaign {index}"
        if not isinstance(table, dict) or set(table) != {"name", "generated_until",
                                                          "redeemable_until"}:  # fmt: skip
            raise CampaignError(f"{where}: needs exactly name, generated_until, redeemable_until")
        first, last = table["generated_until"], table["redeemable_until"]
        if not all(isinstance(d, date) and not hasattr(d, "hour") for d in (first, last)):
            raise CampaignError(f"{where}: dates must be dates such as 2026-06-30")
        if last < first:
            raise CampaignError(f"{where}: redeemable_until is before generated_until")
        campaigns.append(Campaign(str(table["name"]), first, last))
    return campaigns
