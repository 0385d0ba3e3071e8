"""Which record the gate decides on when its own activation and the hub's list differ."""

from __future__ import annotations

from datetime import date

from firmware.gate.passes import PassRecord, PassState, PassType
from firmware.store.store import hub_view, merge

SOLO = PassType("solo", 1, 5)


def record(state: PassState, activated: date | None = None, expires: date | None = None):
    return PassRecord("04A1B2C3D4E501", "100001", "ID1", SOLO, state, activated, expires)


LOCAL = record(PassState.ACTIVE, date(2026, 6, 10), date(2027, 6, 9))


def test_only_one_source_is_used_as_it_is() -> None:
    assert merge(LOCAL, None) is LOCAL
    listed = record(PassState.SOLD)
    assert merge(None, listed) is listed
    assert merge(None, None) is None


def test_a_block_from_the_central_office_wins_over_a_local_activation() -> None:
    blocked = record(PassState.BLOCKED)
    assert merge(LOCAL, blocked) is blocked


def test_the_list_not_yet_knowing_our_activation_keeps_ours() -> None:
    assert merge(LOCAL, record(PassState.SOLD)) is LOCAL


def test_the_earliest_activation_wins_when_two_museums_activated_offline() -> None:
    earlier = record(PassState.ACTIVE, date(2026, 6, 8), date(2027, 6, 7))
    later = record(PassState.ACTIVE, date(2026, 6, 12), date(2027, 6, 11))
    assert merge(LOCAL, earlier) is earlier
    assert merge(LOCAL, later) is LOCAL
    same = record(PassState.ACTIVE, date(2026, 6, 10), date(2027, 6, 9))
    assert merge(LOCAL, same) is same  # the hub's copy once it has ours


def test_a_renewal_sold_after_our_activation_is_not_hidden_by_it() -> None:
    # Renewed while the year we activated still runs: the list's record carries it.
    renewed = record(PassState.SOLD, date(2026, 6, 10), date(2027, 6, 9))
    assert merge(LOCAL, renewed) is renewed
    # Once we activate the renewal after that year, our newer activation counts.
    new_year = record(PassState.ACTIVE, date(2027, 6, 12), date(2028, 6, 11))
    assert merge(new_year, renewed) is new_year


def test_the_hub_view_takes_a_block_from_either_source() -> None:
    listed = record(PassState.ACTIVE, date(2026, 6, 1), date(2027, 5, 31))
    blocked = record(PassState.BLOCKED)
    assert hub_view(blocked, listed) is blocked
    assert hub_view(record(PassState.SOLD), blocked) is blocked


def test_the_hub_view_keeps_the_earliest_of_two_activations() -> None:
    listed = record(PassState.ACTIVE, date(2026, 6, 1), date(2027, 5, 31))
    remote = record(PassState.ACTIVE, date(2026, 5, 2), date(2027, 5, 1))
    assert hub_view(remote, listed) is remote
    assert hub_view(listed, remote) is remote


def test_a_sync_delta_is_newer_than_the_list_it_follows() -> None:
    listed = record(PassState.STOCK)
    sold = record(PassState.SOLD)
    assert hub_view(sold, listed) is sold
    assert hub_view(None, listed) is listed
