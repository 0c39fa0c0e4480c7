"""Phone numbers: one UK normaliser (national and E.164 forms) and the validator built on it."""

from __future__ import annotations


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def uk_national(text: str) -> str:
    """The UK national dialling form, trunk 0 included, of a number written nationally or internationally:
    '+44 7700 900418', '+44 (0)7700 900418', '0044 7700 900418' and '447700900418' all give '07700900418'.
    Any other number gives its digits as written."""
    ds = digits(text)
    plus = text.lstrip().startswith("+")
    if plus and ds.startswith("44"):
        rest = ds[2:]
    elif ds.startswith("0044"):
        rest = ds[4:]
    elif ds.startswith("44") and len(ds) == 12:
        rest = ds[2:]
    else:
        return ds
    return rest if rest.startswith("0") else "0" + rest


def uk_national_number(text: str) -> str:
    """'+44 (0)7700 900418' / '07700 900418' -> '7700900418' (the national significant number) when the text is a
    plausible UK number (10 digits after the trunk 0, or 9 for a few small exchanges), else ''."""
    if text.lstrip().startswith("+") and not digits(text).startswith("44"):
        return ""
    national = uk_national(text)
    if not national.startswith("0") or national.startswith("00"):
        return ""
    nsn = national[1:]
    if len(nsn) == 10 and nsn[0] in "1235789":
        return nsn
    if len(nsn) == 9 and nsn[0] == "1":
        return nsn
    return ""


def uk_e164(text: str) -> str:
    """'+447700900418' for a plausible UK number, else ''."""
    nsn = uk_national_number(text)
    return "+44" + nsn if nsn else ""
