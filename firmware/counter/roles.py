"""Who may do what at the counter: the tablet's roles (seed, section III.1).

Contrôle records entries; Caisse also sells, renews and reads statistics;
Stock does all of Caisse plus pass orders and the cash register. A session
opened with the office's access code stands for a role: the technician's as
Stock, the cash desk's as Caisse with the cash register (cash mode needs the
office's code, seed).
"""

from __future__ import annotations

from enum import StrEnum

from firmware.gate.staff import FUNCTIONS, Role


class Function(StrEnum):
    ENTRIES = "entries"
    SALES = "sales"
    RENEWALS = "renewals"
    STATISTICS = "statistics"
    PASS_ORDERS = "pass_orders"
    CASH_REGISTER = "cash_register"


_CAISSE = frozenset({Function.ENTRIES, Function.SALES, Function.RENEWALS, Function.STATISTICS})
_STOCK = _CAISSE | {Function.PASS_ORDERS, Function.CASH_REGISTER}

PERMISSIONS: dict[Role, frozenset[Function]] = {
    Role.CONTROLE: frozenset({Function.ENTRIES}),
    Role.CAISSE: _CAISSE,
    Role.STOCK: _STOCK,
    Role.TECHNICIAN: _STOCK,
    Role.CASH: _CAISSE | {Function.CASH_REGISTER},
}


class NotPermitted(Exception):
    """The role may not use the function; ``code`` is ``not_permitted``."""

    code = "not_permitted"


def may(role: Role, function: Function) -> bool:
    return function in PERMISSIONS.get(role, frozenset())


def require(role: Role, function: Function) -> None:
    """Raise NotPermitted unless ``role`` may use ``function``."""
    if not may(role, function):
        raise NotPermitted(f"the role {role} may not use {function}: log in as a role that may")


def session_functions(role: Role) -> frozenset[str]:
    """What a session of ``role`` may do on the screen: the gate's functions and the counter's."""
    return FUNCTIONS[role] | {str(function) for function in PERMISSIONS.get(role, ())}
