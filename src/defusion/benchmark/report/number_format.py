"""How summary.md and summary.tex print their numbers: significant digits, a column's decimals,
scientific notation where fixed would hide a value, and each value as printed, so that best and
second go by what a reader sees (two means that print alike tie)."""

from __future__ import annotations

import numpy as np


#: Significant digits of the means in summary.md (``.4g``: scientific under 1e-4 and from 1e4 on).
MARKDOWN_DIGITS = 4


def markdown_shown(value: float) -> float:
    """``value`` as summary.md shows it (:data:`MARKDOWN_DIGITS`), so that the best goes by what is
    shown: two means that print alike are both bold, as in summary.tex (:func:`latex_shown`).

    Example:
        >>> markdown_shown(57.42014) == markdown_shown(57.42006), markdown_shown(1.79946e-07)
        (True, 1.799e-07)
    """
    return float(f"{value:.{MARKDOWN_DIGITS}g}")


def markdown_std(std: float, mean: float) -> str:
    """``std`` as shown after ``mean`` in summary.md: in fixed notation to the decimals the mean has at
    :data:`MARKDOWN_DIGITS` significant digits (trailing zeros dropped, as ``.4g`` drops the mean's), so
    that it reads on the mean's scale; in scientific notation only where the mean is.

    Example:
        >>> markdown_std(346.62, 733.3), markdown_std(0.5, 5.5), markdown_std(0.0, 6.6)
        ('346.6', '0.5', '0')
        >>> markdown_std(2.1e-07, 4.868e-07)
        '2.1e-07'
    """
    if "e" in f"{mean:.{MARKDOWN_DIGITS}g}":
        return f"{std:.{MARKDOWN_DIGITS}g}"
    text = f"{std:.{_places(abs(mean) or 1.0, MARKDOWN_DIGITS)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _places(top: float, digits: int) -> int:
    """Decimal places that give the magnitude ``top`` (> 0) ``digits`` significant digits."""
    return int(max(0, digits - 1 - np.floor(np.log10(top))))


#: Significant digits of the LaTeX table's numbers, and the most decimal places a column shows them
#: with: a column whose largest value needs more (all under 0.001, say Nabf's 4.868e-07) is written
#: in scientific notation, not as 0.000000 and 0.000069.
LATEX_DIGITS = 4
LATEX_MAX_PLACES = 6
#: The fewest significant digits a number of summary.tex shows in fixed notation: one that would show
#: fewer at its column's decimals (Nabf's 6.226e-05 in a column of 5, from its largest 0.01333: 0.00006)
#: is in scientific notation, so that close values do not print, and rank, as a tie.
LATEX_MIN_DIGITS = 2


def column_decimals(values: list[float], digits: int = LATEX_DIGITS) -> int | None:
    """Decimal places that give the column's largest magnitude ``digits`` significant digits; None
    where that takes more than :data:`LATEX_MAX_PLACES` (the column is then in scientific notation).

    Example:
        >>> column_decimals([0.61, 0.5]), column_decimals([58.2, 60.0]), column_decimals([4.868e-07, 6.913e-05])
        (4, 2, None)
    """
    places = _places(max((abs(v) for v in values if v), default=1.0), digits)
    return places if places <= LATEX_MAX_PLACES else None


def _fixed(value: float, places: int | None) -> str | None:
    """``value`` to ``places`` decimals where that shows at least :data:`LATEX_MIN_DIGITS` significant
    digits, or it is 0, or 1 or more (its whole digits show its size: 7.0 in a column of 100.1); None
    where it does not, or ``places`` is None: scientific notation then.

    Example:
        >>> _fixed(0.01333, 5), _fixed(6.226e-05, 5), _fixed(0.000996, 5), _fixed(0.0, 5), _fixed(7.0, 1)
        ('0.01333', None, '0.00100', '0.00000', '7.0')
    """
    if places is None:
        return None
    text = f"{value:.{places}f}"
    digits = text.lstrip("-").replace(".", "").lstrip("0")  # 0.00100: 100
    return text if value == 0 or abs(value) >= 1 or len(digits) >= LATEX_MIN_DIGITS else None


def latex_number(value: float, places: int | None) -> str:
    r"""``value`` to ``places`` decimals; in scientific notation to :data:`LATEX_DIGITS` significant
    digits where ``places`` is None (:func:`column_decimals`) or they would show fewer than
    :data:`LATEX_MIN_DIGITS` (:func:`_fixed`), 0 included.

    Example:
        >>> latex_number(0.61234, 4), latex_number(4.8677e-07, None), latex_number(4.8677e-07, 4)
        ('0.6123', '$4.868\\times10^{-7}$', '$4.868\\times10^{-7}$')
        >>> latex_number(0.01333, 5), latex_number(6.226e-05, 5)
        ('0.01333', '$6.226\\times10^{-5}$')
    """
    if value == 0 and places is None:
        return "0"
    text = _fixed(value, places)
    if text is not None:
        return text
    mantissa, exponent = f"{value:.{LATEX_DIGITS - 1}e}".split("e")
    return f"${mantissa}\\times10^{{{int(exponent)}}}$"


def latex_std(std: float, places: int | None, mean: float | None = None) -> str:
    r"""``std`` as shown after its ``mean`` in summary.tex: to the column's ``places`` decimals, even where
    that shows 0 (a spread below the column's precision is none worth printing); in scientific notation
    only where its mean is (a column that is, ``places`` None, :func:`column_decimals`, or a mean too small
    for the column's decimals, :func:`_fixed`), so that it reads on the mean's scale.

    Example:
        >>> latex_std(4e-04, 3), latex_std(1.5e-07, None), latex_std(0.0, 3)
        ('0.000', '$1.500\\times10^{-7}$', '0.000')
        >>> latex_std(2.1e-05, 5, mean=6.226e-05)
        '$2.100\\times10^{-5}$'
    """
    if places is None or (mean is not None and _fixed(mean, places) is None):
        return latex_number(std, None)
    return f"{std:.{places}f}"


def latex_shown(value: float, places: int | None) -> float:
    """``value`` as :func:`latex_number` shows it, so that best and second go by what is shown: to
    ``places`` decimals, or to :data:`LATEX_DIGITS` significant digits where it is in scientific notation
    (``places`` None, or a value they would show with fewer than :data:`LATEX_MIN_DIGITS`, :func:`_fixed`):
    1.8e-07 and 5.2e-07 in a column of 5 decimals are not a tie at 0, nor 5.6e-05 and 6.4e-05 at 0.00006.

    Example:
        >>> latex_shown(0.684531, 4) == latex_shown(0.684512, 4), latex_shown(1.79946e-07, 5)
        (True, 1.799e-07)
        >>> latex_shown(5.6e-05, 5) == latex_shown(6.4e-05, 5)
        False
    """
    text = _fixed(value, places)
    return float(text) if text is not None else float(f"{value:.{LATEX_DIGITS - 1}e}")
