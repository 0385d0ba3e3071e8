"""What the screen says for each stable code the gate uses.

The journal stores codes; these tables turn them into words (marked for the
catalogue with ``N_`` and translated where they are shown). A refusal says
what happened and what to do next.
"""

from __future__ import annotations

from firmware.display.i18n import N_

# reason code → (what happened, what to do next); {date} is the relevant day.
REFUSALS: dict[str, tuple[str, str]] = {
    "invalid_serial": (
        N_("This card could not be read as a pass."),
        N_("Hold it still against the reader, or please see the desk."),
    ),
    "unknown_pass": (
        N_("This pass is not known to this gate."),
        N_("Please see the desk."),
    ),
    "blocked": (
        N_("This pass is blocked."),
        N_("Please see the desk."),
    ),
    "not_sold": (
        N_("This pass has not been sold yet."),
        N_("Please see the desk to finish the sale."),
    ),
    "expired": (
        N_("This pass expired on {date}."),
        N_("You can renew it at the desk."),
    ),
    "already_entered": (
        N_("This pass has just been used at this gate."),
        N_("Please see the desk if you need help."),
    ),
    "paper_pass_withdrawn": (
        N_("Paper passes are no longer accepted since {date}."),
        N_("The holder must contact the central office to replace it."),
    ),
    "list_expired": (
        N_("This gate's pass data is out of date, so it cannot check passes."),
        N_("Please see the desk: staff can let you in."),
    ),
}
UNKNOWN_REFUSAL = (N_("Entry is not possible with this pass."), N_("Please see the desk."))
NOT_STORED = (
    N_("This gate cannot record entries right now."),
    N_("Please see the desk."),
)

FORCE_REASONS: dict[str, str] = {
    "sale_not_finalised": N_("Sale not finalised"),
    "chip_unreadable": N_("Chip unreadable"),
    "list_not_current": N_("Pass list not up to date"),
    "other": N_("Other reason"),
}

# The roles of the tablet (seed, III.1): Contrôle, Caisse, Stock; and those of access codes.
ROLES = {
    "controle": N_("Control"),
    "caisse": N_("Cash desk"),
    "stock": N_("Stock"),
    "technician": N_("Technician"),
    "cash": N_("Cash desk"),
}

# Why an access code opened nothing (AccessCodeRefused reasons), and what to do.
ACCESS_REFUSALS = {
    "malformed": N_("This code cannot be read: check every group."),
    "wrong_code": N_("This code is not for this gate: check it, or ask the central office."),
    "expired": N_("This code has expired: ask the central office for a new one."),
    "used": N_("This code has already been used on this gate."),
    "no_office_key": N_("This gate cannot check codes: its office key is missing (see the log)."),
}
UNKNOWN_ACCESS_REFUSAL = N_("This code was refused.")

PASS_STATES = {
    "stock": N_("in stock, not sold"),
    "sold": N_("sold, not used yet"),
    "active": N_("active"),
    "blocked": N_("blocked"),
}

# Refusal codes in the figures, shortly.
REFUSAL_NAMES = {
    "invalid_serial": N_("Unreadable card"),
    "unknown_pass": N_("Unknown pass"),
    "blocked": N_("Blocked"),
    "not_sold": N_("Not sold"),
    "expired": N_("Expired"),
    "already_entered": N_("Just used"),
    "paper_pass_withdrawn": N_("Paper pass"),
    "list_expired": N_("Data out of date"),
}
OTHER_REFUSAL = N_("Other refusals")
