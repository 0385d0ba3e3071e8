"""The counter's sale records as the hub reads them: kinds, money, closures, statistics.

Defined in ``firmware/counter/`` beside the counter that writes them; this
is the name the hub imports them by.
"""

from __future__ import annotations

from firmware.counter.closures import chain_problems, closure_problems
from firmware.counter.money import format_cents
from firmware.counter.records import MONEY_KINDS, PASS_ORDER
from firmware.counter.rules import renewal_refusal, renewed
from firmware.counter.stats import statistics
from firmware.gate.passes import PassRecord, PassState, PassType

# The renewal rule and the pass record it reads: the office renews by the counter's rule.
__all__ = ["MONEY_KINDS", "PASS_ORDER", "PassRecord", "PassState", "PassType", "chain_problems",
           "closure_problems", "format_cents", "renewal_refusal", "renewed",
           "statistics"]  # fmt: skip
