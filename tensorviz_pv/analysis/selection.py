"""Which filters a person asked for, from the text they typed (the Filters property)."""

from ..errors import SettingError


def parse_filter_list(text, count):
    """'0-3,7' -> [0, 1, 2, 3, 7]; '' or 'all' -> None (every filter of the `count`)."""
    text = (text or "").strip().lower()
    if text in ("", "all"):
        return None
    chosen = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            low, _, high = part.partition("-")
            low, high = int(low), int(high or low)
        except ValueError:
            raise SettingError(f"Filters {text!r}: use indices and ranges like 0-3,7") from None
        if high < low:
            raise SettingError(f"Filters {text!r}: the range {part} runs backwards")
        chosen.extend(range(low, high + 1))
    bad = [f for f in chosen if not 0 <= f < count]
    if bad:
        raise SettingError(f"Filters {text!r}: filter {bad[0]} does not exist (0-{count - 1})")
    return sorted(set(chosen))


def parse_order(text, count):
    """'3,0,1,2' -> [3, 0, 1, 2]: every filter of the `count` once, in the order to draw them;
    '' -> None (their own order)."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        order = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise SettingError(f"Order {text!r}: use filter indices separated by commas") from None
    if sorted(order) != list(range(count)):
        raise SettingError(f"Order {text[:60]!r}: name each of the {count} filters "
                           f"(0-{count - 1}) once")
    return order
