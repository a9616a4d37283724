"""Where the figures put their ticks, numbers and data, worked out on plain numbers (no
ParaView): whole-number ticks for a step axis, short tick labels, and the pan and zoom that
fit a view's data into the room its text leaves."""

import math

NICE_STEPS = (1, 2, 5)


def integer_ticks(low, high, most=8):
    """Whole-number ticks from `low` to `high` (a step axis: no half steps), 1, 2 or 5 x 10^k
    apart, the closest spacing that gives at most `most` of them."""
    low, high = math.ceil(low), math.floor(high)
    if high <= low:
        return [low]
    decade = 1
    while (high - low) // (5 * decade) + 1 > most:
        decade *= 10
    spacing = next(m * decade for m in NICE_STEPS if (high - low) // (m * decade) + 1 <= most)
    first = -(-low // spacing) * spacing
    return list(range(first, high + 1, spacing))


def short_number(value, digits=3):
    """A short tick label: `digits` significant digits at most, in engineering notation (an
    exponent that is a multiple of 3) below 0.01 and from 10,000 up:
    -0.00195312 -> '-1.95e-3', -0.015625 -> '-0.0156', 0.5 -> '0.5', 25000 -> '25e3'."""
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    magnitude = math.floor(math.log10(abs(value)))
    exponent = 0 if -2 <= magnitude < 4 else 3 * math.floor(magnitude / 3)
    mantissa = value / 10.0 ** exponent
    places = max(0, digits - 1 - (magnitude - exponent))
    text = f"{round(mantissa, places):.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + (f"e{exponent}" if exponent else "")


def fit_into(box, target):
    """(scale, dx, dy): zoom about the view's centre by `scale`, then move by (dx, dy), and
    `box` = (x0, x1, y0, y1) fills `target` (same coordinates) as far as it fits, centred."""
    x0, x1, y0, y1 = box
    tx0, tx1, ty0, ty1 = target
    scale = min((tx1 - tx0) / max(x1 - x0, 1e-12), (ty1 - ty0) / max(y1 - y0, 1e-12))
    return scale, (tx0 + tx1 - scale * (x0 + x1)) / 2, (ty0 + ty1 - scale * (y0 + y1)) / 2
