"""The counter's pages laid out as boxes (``desk_ui.py`` says what each touch does).

Built from the same pieces as ``screens.py`` (titles, notices, rows, the
keypad) at 800×480; every touch target is at least 48 px. Amounts come from
the counter in cents and are shown with Babel in the screen's language.
"""

from __future__ import annotations

from babel.numbers import format_currency
from pygame import Rect

from firmware.display.desk_ui import Page
from firmware.display.draw import (
    AMBER,
    BLUE,
    GREEN,
    GREEN_LIGHT,
    MUTED,
    RED,
    RED_LIGHT,
    WHITE,
    Bars,
    Box,
    Button,
    Icon,
    Text,
)
from firmware.display.i18n import N_, Words
from firmware.display.passplus_ui import may_take
from firmware.display.screens import (
    DESK_PAGES,
    TOP,
    Context,
    Value,
    _keypad,
    _loading,
    _notice,
    _rows,
    _title,
    children_picker,
)
from firmware.display.texts import PASS_STATES
from firmware.display.ui import Action, UiState

LEFT_W = 360  # the left of a page with the keypad on its right

CATEGORIES = {
    "pupil": N_("Pupil"),
    "student": N_("Student"),
    "teacher": N_("Teacher"),
    "trainee": N_("Trainee"),
    "disabled": N_("Disabled person"),
    "job_seeker": N_("Job seeker"),
    "museum_support": N_("Museum-support member"),
}
PAYMENTS = {"cash": N_("Cash"), "card": N_("Card"), "cheque": N_("Cheque")}
ACTIONS = {
    "sell": N_("Sell"),
    "renew": N_("Renew"),
    "entry": N_("Record an entry"),
    "information": N_("Information"),
}
# Why the counter did not do something (stable codes), in words for the cashier.
REFUSALS = {
    "login_first": N_("Log in first."),
    "not_permitted": N_("Your role may not do this."),
    "unknown_pass": N_("This pass is not in the counter's list."),
    "not_in_stock": N_("This pass has already been sold: it cannot be sold again."),
    "other_museums_stock": N_(
        "This pass belongs to another museum's stock: it cannot be sold here."
    ),  # fmt: skip
    "renewal_too_early": N_("This pass cannot be renewed yet: it has more than 3 months left."),
    "already_renewed": N_("This pass has already been renewed."),
    "blocked": N_("This pass is blocked: the holder must contact the central office."),
    "not_sold": N_("This pass is in stock: sell it."),
    "not_activated": N_("This pass has not been used yet: its year starts at its first entry."),
    "voucher_exceeds_price": N_("The voucher is larger than the price."),
    "category_required": N_("Choose the buyer's category for the reduced tariff."),
    "category_not_confirmed": N_("Confirm that the buyer showed proof of the category."),
    "negative_amount": N_("An amount cannot be negative."),
    "absurd_amount": N_("This amount is not plausible: check it."),
    "malformed_amount": N_("This amount cannot be read."),
    "missing": N_("Sales are blocked: this counter has no tariffs from the central office."),
    "expired": N_("Sales are blocked: the tariffs have expired. Synchronise the counter."),
    "rollback": N_("Sales are blocked: these tariffs are older than ones already used."),
    "till_open": N_("The till is open: close it first."),
    "till_closed": N_("The till is not open."),
    "already_closed": N_("This day is already closed."),
    "bad_quantity": N_("Order from 1 to 1000 passes."),
    "unknown_pass_type": N_("This pass type cannot be ordered."),
    "device": N_("The printer or TSE settings are wrong: see the log."),
    "not_stored": N_("This counter cannot record right now: nothing was sold. See the status."),
}
OTHER_REFUSAL = N_("This was refused.")
SALES_BLOCKED = N_("Sales are blocked: the tariffs from the central office are missing, "
                   "unsigned or expired. Entries still work.")  # fmt: skip


def desk_layout(s: UiState, t: Words, ctx: Context) -> list[object]:
    """The items of the counter's page ``s.desk.page``."""
    return _PAGES[s.desk.page](s, t, ctx)


def desk_idle(s: UiState, t: Words, ctx: Context) -> list[object]:
    """A counter desk before anyone logs in."""
    w = ctx.width
    return [
        Icon(Rect(w // 2 - 75, TOP + 30, 150, 140), "card", BLUE),
        Text(Rect(40, TOP + 185, w - 80, 64), t._("Counter"), 46, bold=True),
        Text(Rect(60, TOP + 255, w - 120, 80),
             t._("Log in with Staff to sell, renew and record entries."), 26),
    ]  # fmt: skip


def money(t: Words, cents: int, currency: str) -> Value:
    return Value(format_currency(cents / 100, currency or "EUR", locale=t.locale))


def _field(rect: Rect, text: str) -> list[object]:
    return [Box(rect, WHITE, BLUE, 3), Text(rect.inflate(-24, -8), text, 36, bold=True,
                                            align="left", data=True)]  # fmt: skip


def _back(t: Words, ctx: Context) -> Button:
    return Button(Rect(24, ctx.height - 76, 200, 60), t._("Back"), Action("back"), "quiet",
                  size=22)  # fmt: skip


# -- home and the pass -----------------------------------------------------------------


def _home(s: UiState, t: Words, ctx: Context) -> list[object]:
    d, functions = s.desk, s.session.functions
    items: list[object] = [
        Text(Rect(24, TOP + 8, LEFT_W, 44), t._("Scan a pass or type its number"), 24,
             bold=True, align="left"),
        *_field(Rect(24, TOP + 56, LEFT_W, 56), d.typed),
    ]  # fmt: skip
    shortcuts = []
    if "cash_register" in functions:
        shortcuts.append((t._("Cash register"), Action("desk_till")))
    if "statistics" in functions:
        shortcuts.append((t._("Statistics"), Action("desk_statistics", "day")))
    if "pass_orders" in functions:
        shortcuts.append((t._("Order passes"), Action("desk_orders")))
    if "entries" in functions:
        shortcuts.append((t._("Old paper pass"), Action("menu", "paper")))
        shortcuts.append((t._("Force an entry"), Action("menu", "force")))
    if may_take(s):
        shortcuts.append((t._("Pass+ ticket"), Action("passplus")))
    shortcuts.append((t._("Status"), Action("menu", "status")))
    if not d.desk_mode:
        shortcuts.append((t._("Staff menu"), Action("back")))
    for index, (label, action) in enumerate(shortcuts[:8]):
        rect = Rect(24 + (index % 2) * 184, TOP + 124 + (index // 2) * 70, 176, 62)
        items.append(Button(rect, label, action, size=18))
    return items + _keypad(t, ctx)


def _pass(s: UiState, t: Words, ctx: Context) -> list[object]:
    view, w, h = s.desk.pass_view, ctx.width, ctx.height
    assert view is not None
    if not view.found:
        return [
            *_title(t, ctx, t._("Unknown pass")),
            *_notice(Rect(24, TOP + 90, w - 48, 140), t._(
                "Pass {number} is not in this counter's list. The list may be out of date: "
                "check the data status.", number=view.credential)),
        ]  # fmt: skip
    never = t._("none")
    rows = [
        (t._("Pass type"), Value(view.pass_type or "")),
        (t._("State"), t._(PASS_STATES.get(view.state or "", "none"))),
        (t._("Activated on"), Value(t.date(view.activated_on)) if view.activated_on else never),
        (t._("Valid until"), Value(t.date(view.valid_until)) if view.valid_until else never),
        (t._("In the stock of"), Value(view.stock_of) if view.stock_of else never),
    ]
    items = [*_title(t, ctx, t._("Pass {number}", number=view.pass_number)),
             *_rows(Rect(24, TOP + 70, w - 48, 0), rows, 34, label_w=260)]  # fmt: skip
    selling = "sell" in view.actions or "renew" in view.actions
    y = TOP + 250
    if selling and view.sales_blocked:
        items += _notice(Rect(24, y, w - 48, 64), t._(SALES_BLOCKED), 18)
        y += 70
    elif view.renewal_refused == "renewal_too_early" and view.renewal_from is not None:
        items.append(Text(Rect(24, y, w - 48, 30), t._(
            "Renewal possible from {date} (less than 3 months left).",
            date=t.date(view.renewal_from)), 20, colour=AMBER, align="left"))  # fmt: skip
        y += 36
    buttons = [a for a in ("sell", "renew", "entry", "information") if a in view.actions]
    if "entries" in s.session.functions:
        buttons.append("force")
    width = (w - 48 - 12 * (len(buttons) - 1)) // max(1, len(buttons))
    for index, action in enumerate(buttons):
        rect = Rect(24 + index * (width + 12), h - 84, width, 72)
        blocked = action in ("sell", "renew") and bool(view.sales_blocked)
        if action == "force":
            items.append(Button(rect, t._("Force an entry"), Action("desk_action", "force"),
                                "danger", size=20))  # fmt: skip
        else:
            style = "primary" if action in ("sell", "renew") else "normal"
            items.append(Button(rect, t._(ACTIONS[action]), Action("desk_action", action), style,
                                enabled=not blocked, size=22))  # fmt: skip
    return items


def _entry(s: UiState, t: Words, ctx: Context) -> list[object]:
    view, w, h = s.desk.pass_view, ctx.width, ctx.height
    assert view is not None
    return [
        *_title(t, ctx, t._("Entry with pass {number}", number=view.pass_number)),
        Text(Rect(24, TOP + 70, w - 48, 34), t._("How many children come in with the holder?"),
             22, align="left"),
        *children_picker(s, t, Rect(24, TOP + 120, w - 48, 120)),
        _back(t, ctx),
        Button(Rect(w - 324, h - 84, 300, 72), t._("Record the entry"), Action("desk_entry"),
               "primary", size=22),
    ]  # fmt: skip


# -- the sale ------------------------------------------------------------------------


def _tariff(s: UiState, t: Words, ctx: Context) -> list[object]:
    d, w = s.desk, ctx.width
    view = d.pass_view
    assert view is not None
    title = t._("Renewal: choose the tariff") if d.renewal else t._("Sale: choose the tariff")
    items = _title(t, ctx, title)
    for index, tariff in enumerate(view.tariffs[:5]):
        rect = Rect(24, TOP + 76 + index * 68, w - 48, 60)
        label = f"{tariff.label} — {money(t, tariff.price_cents, view.currency)}"
        items.append(Button(rect, label, Action("desk_tariff", tariff.code), data=True,
                            size=24))  # fmt: skip
    if not view.tariffs:
        items += _notice(Rect(24, TOP + 90, w - 48, 100), t._(SALES_BLOCKED), 20)
    return items


def _category(s: UiState, t: Words, ctx: Context) -> list[object]:
    d, w, h = s.desk, ctx.width, ctx.height
    assert d.tariff is not None
    items = _title(t, ctx, t._("Reduced tariff: who is the buyer?"))
    col_w = (w - 60) // 2
    for index, code in enumerate(d.tariff.categories[:8]):
        chosen = code == d.category
        rect = Rect(20 + (index % 2) * (col_w + 20), TOP + 72 + (index // 2) * 62, col_w, 54)
        items.append(Button(rect, t._(CATEGORIES.get(code, code)), Action("desk_category", code),
                            "selected" if chosen else "normal", size=22,
                            icon="check" if chosen else ""))  # fmt: skip
    items.append(Button(Rect(20, h - 84, w - 340, 72),
                        t._("Proof seen") if d.proof else t._("Confirm: the buyer showed proof"),
                        Action("desk_proof"), "selected" if d.proof else "normal",
                        enabled=d.category is not None, size=20,
                        icon="check" if d.proof else ""))  # fmt: skip
    items.append(Button(Rect(w - 300, h - 84, 280, 72), t._("Next"), Action("desk_next"),
                        "primary", enabled=d.proof, size=24))  # fmt: skip
    return items


def _voucher(s: UiState, t: Words, ctx: Context) -> list[object]:
    d = s.desk
    view = d.pass_view
    assert d.tariff is not None and view is not None
    cents = int(d.typed or "0")
    items: list[object] = [
        Text(Rect(24, TOP + 10, LEFT_W, 50), t._("FNAC voucher"), 30, bold=True, align="left"),
        Text(
            Rect(24, TOP + 60, LEFT_W, 30),
            t._("Price: {price}", price=money(t, d.tariff.price_cents, view.currency)),
            20,
            align="left",
        ),  # fmt: skip
        *_field(Rect(24, TOP + 96, LEFT_W, 60), money(t, cents, view.currency)),
    ]
    if cents > d.tariff.price_cents:
        items += _notice(Rect(24, TOP + 166, LEFT_W, 90), t._(REFUSALS["voucher_exceeds_price"]),
                         20)  # fmt: skip
    else:
        items.append(Text(Rect(24, TOP + 166, LEFT_W, 90), t._(
            "Type the voucher's amount in cents, then OK."), 20, align="left"))  # fmt: skip
    items.append(Button(Rect(24, TOP + 262, LEFT_W, 60), t._("No voucher"),
                        Action("desk_no_voucher"), size=22))  # fmt: skip
    items.append(_back(t, ctx))
    return items + _keypad(t, ctx)


def _payment(s: UiState, t: Words, ctx: Context) -> list[object]:
    d, w, h = s.desk, ctx.width, ctx.height
    view = d.pass_view
    assert d.tariff is not None and view is not None
    cur = view.currency
    rows = [
        (t._("Tariff"), Value(d.tariff.label)),
        (t._("Price"), money(t, d.tariff.price_cents, cur)),
        (t._("FNAC voucher"), money(t, d.voucher_cents, cur)),
        (t._("To pay"), money(t, d.due_cents, cur)),
    ]
    if d.category:
        rows.insert(1, (t._("Category"), t._(CATEGORIES.get(d.category, d.category))))
    items = [*_title(t, ctx, t._("Payment")), *_rows(Rect(24, TOP + 66, 380, 0), rows, 34,
                                                     label_w=170)]  # fmt: skip
    for index, (method, label) in enumerate(PAYMENTS.items()):
        chosen = method == d.payment
        items.append(Button(Rect(420, TOP + 70 + index * 64, w - 440, 56), t._(label),
                            Action("desk_payment", method), "selected" if chosen else "normal",
                            size=22, icon="check" if chosen else ""))  # fmt: skip
    immediate = (t._("Immediate entry: yes (valid from today)") if d.immediate
                 else t._("Immediate entry: no (starts at the first entry)"))  # fmt: skip
    items.append(Button(Rect(24, TOP + 270, w - 48, 60), immediate, Action("desk_immediate"),
                        "selected" if d.immediate else "normal", size=20,
                        icon="check" if d.immediate else ""))  # fmt: skip
    items.append(Button(Rect(w - 420, h - 82, 400, 70),
                        t._("Validate — {amount}", amount=money(t, d.due_cents, cur)),
                        Action("desk_validate"), "go", enabled=bool(d.payment), size=22,
                        icon="check"))  # fmt: skip
    return items


def _done(s: UiState, t: Words, ctx: Context) -> list[object]:
    done, w, h = s.desk.done, ctx.width, ctx.height
    assert done is not None
    heading = (t._("Sold — pass {number}", number=done.pass_number) if done.kind == "sale"
               else t._("Renewed — pass {number}", number=done.pass_number))  # fmt: skip
    if done.valid_until and done.state == "active":
        validity = t._("Valid until {date}", date=t.date(done.valid_until))
    elif done.valid_until:
        validity = t._("Current year until {date}; the new year starts at the next entry after "
                       "it", date=t.date(done.valid_until))  # fmt: skip
    else:
        validity = t._("The year starts at the first entry")
    items: list[object] = [
        Box(Rect(16, TOP + 8, w - 32, 150), GREEN_LIGHT, GREEN, 3),
        Icon(Rect(32, TOP + 28, 100, 100), "check", GREEN),
        Text(Rect(150, TOP + 16, w - 180, 50), heading, 30, bold=True, colour=GREEN,
             align="left"),
        Text(Rect(150, TOP + 68, w - 180, 84), "\n".join([
            t._("Paid: {amount}", amount=money(t, done.due_cents, done.currency)), validity]),
            20, align="left"),
    ]  # fmt: skip
    y = TOP + 166
    if "ask_to_register" in done.hints:
        items += _notice(Rect(16, y, w - 32, 64), t._(
            "Ask the buyer to register the pass with the central office."), 20)  # fmt: skip
        y += 70
    printed = s.desk.reprinted.printed if s.desk.reprinted else done.printed
    receipt = {
        "printed": t._("Receipt printed."),
        "no_printer": t._("No receipt printer here."),
        "": t._("No receipt printer here."),
        "out_of_paper": t._(
            "No receipt: the printer is out of paper. Load a roll, then "
            "reprint. The sale is recorded."
        ),  # fmt: skip
    }.get(printed, t._("No receipt: the printer failed. The sale is recorded; reprint it."))
    items.append(Text(Rect(24, y, w - 48, 60), receipt, 20, bold=printed not in ("printed", ""),
                      colour=RED if printed not in ("printed", "no_printer", "") else MUTED,
                      align="left"))  # fmt: skip
    if printed not in ("", "no_printer"):
        items.append(Button(Rect(w - 444, h - 82, 200, 70), t._("Reprint"),
                            Action("desk_reprint"), size=22))  # fmt: skip
    items.append(Button(Rect(w - 224, h - 82, 200, 70), t._("Done"), Action("back"), "primary",
                        size=24))  # fmt: skip
    return items


def _refused(s: UiState, t: Words, ctx: Context) -> list[object]:
    refusal, w = s.desk.refusal, ctx.width
    assert refusal is not None
    words = t._(REFUSALS.get(refusal.code, OTHER_REFUSAL))
    return [
        Box(Rect(16, TOP + 8, w - 32, 300), RED_LIGHT, RED, 3),
        Icon(Rect(32, TOP + 28, 100, 100), "cross", RED),
        Text(Rect(150, TOP + 20, w - 180, 110), words, 28, bold=True, colour=RED, align="left"),
        Text(Rect(40, TOP + 140, w - 80, 160), Value(refusal.message), 18, align="left"),
        Button(Rect(w - 224, ctx.height - 82, 200, 70), t._("Back"), Action("back"), "primary",
               size=24),
    ]  # fmt: skip


# -- the till -------------------------------------------------------------------------


def _till(s: UiState, t: Words, ctx: Context) -> list[object]:
    till, w, h = s.desk.till, ctx.width, ctx.height
    items = _title(t, ctx, t._("Cash register"))
    if till is None:
        return items + _loading(t, ctx)
    cur = till.currency
    rows = [(t._("Till"), t._("open") if till.open else t._("closed")),
            (t._("Float"), money(t, till.float_cents, cur)),
            (t._("Cash expected"), money(t, till.expected_cents, cur))]  # fmt: skip
    rows += [(t._(PAYMENTS.get(m, m)), money(t, c, cur)) for m, c in till.by_payment]
    if till.counted_cents is not None and till.difference_cents is not None:
        rows += [(t._("Cash counted"), money(t, till.counted_cents, cur)),
                 (t._("Difference"), money(t, till.difference_cents, cur))]  # fmt: skip
    items += _rows(Rect(24, TOP + 70, w - 48, 0), rows[:8], 34, label_w=300)
    if till.open:
        items.append(Button(Rect(w - 344, h - 82, 320, 70), t._("Close the till"),
                            Action("desk_amount", "counted"), "primary", size=22))  # fmt: skip
    else:
        items.append(Button(Rect(24, h - 82, 320, 70), t._("Open the till"),
                            Action("desk_amount", "float"), size=22))  # fmt: skip
        items.append(Button(Rect(w - 364, h - 82, 340, 70), t._("Close the day (Z report)"),
                            Action("desk_close_day"), "primary", size=20))  # fmt: skip
    return items


def _amount(s: UiState, t: Words, ctx: Context) -> list[object]:
    d = s.desk
    title = t._("Float to open the till") if d.amount_for == "float" else t._("Cash counted")
    currency = d.till.currency if d.till else ""
    return [
        Text(Rect(24, TOP + 10, LEFT_W, 60), title, 28, bold=True, align="left"),
        *_field(Rect(24, TOP + 80, LEFT_W, 60), money(t, int(d.typed or "0"), currency)),
        Text(Rect(24, TOP + 150, LEFT_W, 90), t._("Type the amount in cents, then OK."), 20,
             align="left"),
        _back(t, ctx),
        *_keypad(t, ctx),
    ]  # fmt: skip


def _z_report(s: UiState, t: Words, ctx: Context) -> list[object]:
    report, w = s.desk.report, ctx.width
    assert report is not None
    items = _title(t, ctx, t._("Z report — {label}", label=report.label))
    lines = report.lines[:9]
    for index, line in enumerate(lines):
        items.append(Text(Rect(24, TOP + 68 + index * 30, w - 48, 28), Value(line), 17,
                          align="left", data=True))  # fmt: skip
    printed = t._("Printed.") if report.printed == "printed" else t._("Not printed.")
    items.append(Text(Rect(24, ctx.height - 40, w - 48, 30), printed, 18, colour=MUTED,
                      align="left"))  # fmt: skip
    return items


# -- statistics and orders -----------------------------------------------------------


PERIOD_NAMES = {"day": N_("By day"), "week": N_("By week"), "month": N_("By month")}


def _short(key: str, period: str) -> str:
    if period == "day":
        return key[8:]
    if period == "week":
        return key[-3:]
    return key[5:]


def _statistics(s: UiState, t: Words, ctx: Context) -> list[object]:
    d, w, h = s.desk, ctx.width, ctx.height
    items = _title(t, ctx, t._("Statistics"))
    for index, (period, label) in enumerate(PERIOD_NAMES.items()):
        chosen = period == d.period
        items.append(Button(Rect(24 + index * 190, TOP + 70, 180, 52), t._(label),
                            Action("desk_statistics", period),
                            "selected" if chosen else "normal", size=20))  # fmt: skip
    stats = d.statistics
    if stats is None:
        return items + _loading(t, ctx)
    if not stats.keys:
        return items + [Text(Rect(24, TOP + 180, w - 48, 60), t._("Nothing recorded yet."), 24,
                             colour=MUTED)]  # fmt: skip
    labels = tuple(_short(key, stats.period) for key in stats.keys)
    half = (w - 72) // 2
    total = money(t, sum(stats.revenue_cents), stats.currency)
    items += [
        Text(Rect(24, TOP + 132, half, 30), t._("Entries"), 20, bold=True, align="left"),
        Bars(Rect(24, TOP + 166, half, h - TOP - 180), stats.entries, labels),
        Text(Rect(48 + half, TOP + 132, half, 30),
             t._("Sales and renewals ({total})", total=total), 20, bold=True, align="left"),
        Bars(Rect(48 + half, TOP + 166, half, h - TOP - 180), stats.sales, labels),
    ]  # fmt: skip
    return items


def _order(s: UiState, t: Words, ctx: Context) -> list[object]:
    d = s.desk
    items: list[object] = [
        Text(Rect(24, TOP + 10, LEFT_W, 50), t._("Order passes"), 30, bold=True, align="left"),
    ]
    if d.order_form is None:
        return items + _loading(t, ctx) + [_back(t, ctx)]
    for index, code in enumerate(d.order_form.pass_types[:4]):
        chosen = code == d.order_type
        rect = Rect(24 + (index % 2) * 184, TOP + 66 + (index // 2) * 60, 176, 52)
        items.append(Button(rect, code, Action("desk_order_type", code),
                            "selected" if chosen else "normal", size=22, data=True))  # fmt: skip
    items += [
        Text(Rect(24, TOP + 190, LEFT_W, 30), t._("How many passes?"), 20, align="left"),
        *_field(Rect(24, TOP + 222, LEFT_W, 60), d.typed),
        Text(Rect(24, TOP + 288, LEFT_W, 50), t._("Choose the type, type the number, then OK."),
             18, colour=MUTED, align="left"),
        _back(t, ctx),
    ]  # fmt: skip
    return items + _keypad(t, ctx)


def _ordered(s: UiState, t: Words, ctx: Context) -> list[object]:
    placed, w = s.desk.placed, ctx.width
    assert placed is not None
    return [
        Box(Rect(16, TOP + 8, w - 32, 200), GREEN_LIGHT, GREEN, 3),
        Icon(Rect(32, TOP + 28, 100, 100), "check", GREEN),
        Text(Rect(150, TOP + 20, w - 180, 60), t.ngettext(
            "Order sent: {count} pass", "Order sent: {count} passes", placed.quantity), 30,
            bold=True, colour=GREEN, align="left"),
        Text(Rect(150, TOP + 84, w - 180, 110), t._(
            "The central office ships them; they become this museum's stock when delivered."),
            20, align="left"),
        Button(Rect(w - 224, ctx.height - 82, 200, 70), t._("Done"), Action("back"), "primary",
               size=24),
    ]  # fmt: skip


def _wait(s: UiState, t: Words, ctx: Context) -> list[object]:
    return _loading(t, ctx)


_PAGES = {
    Page.HOME: _home,
    Page.PASS: _pass,
    Page.ENTRY: _entry,
    Page.TARIFF: _tariff,
    Page.CATEGORY: _category,
    Page.VOUCHER: _voucher,
    Page.PAYMENT: _payment,
    Page.DONE: _done,
    Page.REFUSED: _refused,
    Page.TILL: _till,
    Page.AMOUNT: _amount,
    Page.Z_REPORT: _z_report,
    Page.STATISTICS: _statistics,
    Page.ORDER: _order,
    Page.ORDERED: _ordered,
    Page.WAIT: _wait,
}

DESK_PAGES.update(desk=desk_layout, idle=desk_idle)
