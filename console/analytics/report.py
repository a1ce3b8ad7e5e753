"""The weekly PDF report: the week's key figures, two bar charts drawn with fpdf2 itself (no
plotting library to install), and the dashboard's main tables. DejaVu covers Polish and
Russian customers' texts (orders/pdf.py installs nothing more)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from console.analytics.tables import TABLES
from orders.pdf import start

if TYPE_CHECKING:  # fpdf2 is imported with the first report, not at start (~0.2 s)
    from fpdf import FPDF

BAR = (52, 101, 164)
GRID = (200, 200, 200)
HEADINGS_FILL = (232, 236, 242)
TABLES_SHOWN = [("Per channel", "channels"), ("Escalation reasons", "escalation_reasons"),
                ("Misunderstood intents (examples to add to the training data)", "misunderstood"),
                ("Operators", "operators")]


def last_full_week(today: date) -> date:
    """The Monday of the week before this one."""
    return today - timedelta(days=today.weekday() + 7)


def weekly_report(shop_name: str, figures: dict[str, Any]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    span = figures["range"]
    start(pdf, shop_name, f"Weekly report {span['start']} to {span['end']}")
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(0, 6, "Days are UTC days. Definitions: docs/console.md, Analytics.",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _key_figures(pdf, figures)
    days = figures["conversations"]["series"]
    _bars(pdf, "Conversations per day", [(r["period"][5:], r["conversations"]) for r in days])
    _bars(pdf, "Handoffs to operators per day", [(r["period"][5:], r["handoffs"]) for r in days])
    for heading, name in TABLES_SHOWN:
        _table(pdf, heading, name, figures)
    return bytes(pdf.output())


def key_figures(figures: dict[str, Any]) -> list[tuple[str, str]]:
    talk, confirm = figures["conversations"], figures["confirmation"]
    service, operators = figures["self_service"], figures["operators"]
    satisfaction = operators["satisfaction"]
    return [
        ("Conversations", str(talk["conversations"])),
        ("Customer messages", str(talk["customer_messages"])),
        ("Automation rate", _percent(talk["automation_rate"])),
        ("Escalation rate", _percent(talk["escalation_rate"])),
        ("Fallbacks per conversation", _number(talk["misunderstanding_rate"])),
        ("Orders sent for confirmation", str(confirm["sent"])),
        ("Confirmed / declined / unanswered",
         f"{confirm['confirmed']} / {confirm['declined']} / {confirm['unanswered']}"),
        ("Median time to confirm", _duration(confirm["median_seconds_to_confirm"])),
        ("Alternatives / cross-sell accepted / vouchers used",
         f"{confirm['alternatives_accepted']} / {confirm['cross_sell_accepted']} / "
         f"{confirm['vouchers_used']}"),
        ("Status questions answered", str(service["status_answered"])),
        ("Cancellations / delivery changes / returns",
         f"{service['cancellations']} / {service['delivery_changes']} / "
         f"{service['returns_opened']}"),
        ("Back-in-stock notices (converted)",
         f"{service['back_in_stock_sent']} ({service['back_in_stock_converted']})"),
        ("Payment reminders / orders paid after one",
         f"{service['payment_reminders_sent']} / {service['paid_after_reminder']}"),
        ("Overdue at start / end (orders)",
         f"{service['overdue_at_start']['orders']} / {service['overdue_at_end']['orders']}"),
        ("Handoffs (peak queue)", f"{operators['handoffs']} ({operators['queue_peak']})"),
        ("Median time to first operator reply",
         _duration(operators["median_seconds_to_first_reply"])),
        ("Median handling time", _duration(operators["median_handling_seconds"])),
        ("Customer satisfaction (ratings)",
         f"{_number(satisfaction['average'])} of 5 ({satisfaction['ratings']})"),
    ]


def _key_figures(pdf: FPDF, figures: dict[str, Any]) -> None:
    pdf.set_font("DejaVu", "", 10)
    with pdf.table(col_widths=(110, 70), text_align=("LEFT", "RIGHT"),
                   first_row_as_headings=False) as table:
        for name, value in key_figures(figures):
            table.row((name, value))
    pdf.ln(4)


def _bars(pdf: FPDF, heading: str, values: list[tuple[str, int]]) -> None:
    height, width = 40.0, pdf.epw
    if pdf.get_y() + height + 20 > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
    top, left = pdf.get_y() + 4, pdf.l_margin
    peak = max((v for _, v in values), default=0) or 1
    slot = width / max(len(values), 1)
    pdf.set_draw_color(*GRID)
    pdf.line(left, top + height, left + width, top + height)
    pdf.set_fill_color(*BAR)
    pdf.set_font("DejaVu", "", 7)
    for index, (label, value) in enumerate(values):
        bar = height * value / peak
        x = left + index * slot + slot * 0.15
        if bar:
            pdf.rect(x, top + height - bar, slot * 0.7, bar, style="F")
        pdf.set_xy(x, top + height - bar - 4)
        pdf.cell(slot * 0.7, 4, str(value), align="C")
        pdf.set_xy(x, top + height + 1)
        pdf.cell(slot * 0.7, 4, label, align="C")
    pdf.set_fill_color(255, 255, 255)  # tables fill their cells with the current colour
    pdf.set_xy(left, top + height + 8)


def _table(pdf: FPDF, heading: str, name: str, figures: dict[str, Any]) -> None:
    table = TABLES[name](figures)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 8, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    if not table.rows:
        pdf.cell(0, 6, "none this week", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        return
    from fpdf.fonts import FontFace

    with pdf.table(headings_style=FontFace(emphasis="BOLD", fill_color=HEADINGS_FILL)) as out:
        out.row([column.replace("_", " ") for column in table.columns])
        for row in table.rows:
            out.row(["" if value is None else str(value) for value in row])
    pdf.ln(3)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours} h {minute} min" if hours else f"{minute} min {second} s"
