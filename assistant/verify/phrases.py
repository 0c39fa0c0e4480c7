"""Multi-word names found as phrases in evidence text, allowing a middle name or initial between their parts."""

from __future__ import annotations

PHRASE_GAP = 2  # words allowed between the parts of a multi-word name


def phrase_in(phrase: str, text: str) -> bool:
    """The phrase's words in order, at most PHRASE_GAP other words between neighbours ("Scott Buchholz" is in
    "scott andrew buchholz"; "two independent publishing house" is not in "two dollar radio is an independent")."""
    want = phrase.replace("-", " ").split()
    if " ".join(want) in text.replace("-", " "):
        return True
    toks = text.replace("-", " ").split()
    for start, tok in enumerate(toks):
        if tok != want[0]:
            continue
        pos, ok = start, True
        for w in want[1:]:
            nxt = next((k for k in range(pos + 1, min(pos + 2 + PHRASE_GAP, len(toks))) if toks[k] == w), -1)
            if nxt < 0:
                ok = False
                break
            pos = nxt
        if ok:
            return True
    return False
