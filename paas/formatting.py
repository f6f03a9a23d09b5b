"""Values as Indonesian operators read them."""

from decimal import ROUND_HALF_UP, Decimal


def rupiah(value) -> str:
    """``Rp 150.000`` (dots group thousands; cents after a comma only when there are any)."""
    if value is None:
        return "-"
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 1)
    grouped = f"{int(whole):,}".replace(",", ".")
    tail = f",{int(cents * 100):02d}" if cents else ""
    return f"{sign}Rp {grouped}{tail}"
