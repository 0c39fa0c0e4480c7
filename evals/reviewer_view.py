"""What a reviewer (a role without clearance) sees, under the old policy (every tagged PII span masked) and the
protected-person policy (only a case's protected persons masked).
`python -m evals.reviewer_view [--quick] [--cross] [--matcher]`.

Per set, per predicted type: how many spans the tagger (PiiTagger, current settings) predicts, the typed precision
against gold, and how many overlap no gold span at all (ordinary words such as nationalities, brands or towns that the
old policy hid). Then the characters outside any gold span that each policy masks. For the protected policy each
gold text's first PERSON is taken as its protected person (names only), and we report recall/precision of the
protected matcher on that person's gold spans. The demo has no gold spans: its protected person is
demo/kestrel_protected.json, and we count child mentions (any word starting with the given name's or surname's
first five letters, an independent check) left visible by each policy, plus spans masked by type.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from assistant.config import load_settings
from assistant.pii.protected import ProtectedPerson, ProtectedSet, fold, read_persons_file
from evals.suites.pii import PRED_MAP, QUICK_SYNTH, SYNTH_REL, Span, load_synth, load_uk_gold, overlaps

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "demo" / "operation-kestrel"
NOT_MASKED = frozenset({"DATE_TIME"})


def _outside_chars(text: str, gold: list[Span], masked: list[tuple[int, int]]) -> tuple[int, int]:
    """(characters outside every gold span that are masked, characters outside every gold span)."""
    inside = [False] * len(text)
    for _, s, e in gold:
        inside[s:e] = [True] * (e - s)
    hidden = [False] * len(text)
    for s, e in masked:
        hidden[s:e] = [True] * (e - s)
    outside = [i for i, flag in enumerate(inside) if not flag and not text[i].isspace()]
    return sum(hidden[i] for i in outside), len(outside)


def score(texts: list[str], gold: list[list[Span]], pred: list[list[Span]]) -> dict[str, Any]:
    by_type: dict[str, Counter[str]] = {}
    old_hidden = new_hidden = outside = 0
    prot = Counter[str]()
    for text, gs, ps in zip(texts, gold, pred, strict=True):
        masked = [(s, e) for t, s, e in ps if t not in NOT_MASKED]
        for t, s, e in ps:
            c = by_type.setdefault(t, Counter())
            c["n_pred"] += 1
            c["typed_match"] += any(g[0] in (t, PRED_MAP.get(t, t)) and overlaps((t, s, e), g) for g in gs)
            c["no_gold_overlap"] += not any(overlaps((t, s, e), g) for g in gs)
        hidden, n_out = _outside_chars(text, gs, masked)
        old_hidden, outside = old_hidden + hidden, outside + n_out
        persons = [g for g in gs if g[0] == "PERSON"]
        if not persons:
            continue
        name = text[persons[0][1]:persons[0][2]]
        found = ProtectedSet((ProtectedPerson(names=(name,)),)).find(text)
        new_hidden += _outside_chars(text, gs, [(f.start, f.end) for f in found])[0]
        words = set(re.findall(r"[^\W\d_]{3,}", fold(name)))
        targets = [g for g in persons if words & set(re.findall(r"[^\W\d_]{3,}", fold(text[g[1]:g[2]])))]
        prot["gold_spans"] += len(targets)
        prot["gold_masked"] += sum(any(overlaps(g, ("P", f.start, f.end)) for f in found) for g in targets)
        all_words = set(re.findall(r"[^\W\d_]{2,}", fold(name)))  # every word of the name, short ones too
        for g in targets:
            for m in re.finditer(r"[^\W\d_]{2,}", fold(text[g[1]:g[2]])):
                if m.group(0) in all_words:
                    prot["name_words"] += 1
                    prot["name_words_visible"] += not any(f.start <= g[1] + m.start() < f.end for f in found)
        prot["found"] += len(found)
        prot["found_on_gold_person"] += sum(any(overlaps(("P", f.start, f.end), g) for g in persons) for f in found)
    types = {t: {"n_pred": c["n_pred"], "typed_precision": round(c["typed_match"] / c["n_pred"], 4),
                 "no_gold_overlap": c["no_gold_overlap"]} for t, c in sorted(by_type.items())}
    return {"n_texts": len(texts), "by_predicted_type": types,
            "non_pii_chars_masked_old_policy": round(old_hidden / outside, 4) if outside else 0.0,
            "non_pii_chars_masked_protected_policy": round(new_hidden / outside, 4) if outside else 0.0,
            "protected_recall": round(prot["gold_masked"] / prot["gold_spans"], 4) if prot["gold_spans"] else 0.0,
            "protected_precision": round(prot["found_on_gold_person"] / prot["found"], 4) if prot["found"] else 0.0,
            "protected_gold_spans": prot["gold_spans"],
            "protected_name_words_visible": f"{prot['name_words_visible']} of {prot['name_words']}"}


def demo(tagger: Any | None) -> dict[str, Any]:
    (child,) = read_persons_file(ROOT / "demo" / "kestrel_protected.json")
    first, last = (fold(w)[:5] for w in child.names[0].split()[:2])
    mention = re.compile(rf"(?<!\w)(?:{first}|{last})\w*")
    protected = ProtectedSet((child,))
    files = sorted(p for p in DEMO_DIR.rglob("*") if p.suffix in {".txt", ".md", ".eml", ".csv"})
    texts = [p.read_text(encoding="utf-8") for p in files]
    old_types: Counter[str] = Counter()
    visible = Counter[str]()
    for text, ents in zip(texts, tagger.tag_many(texts) if tagger else [[] for _ in texts], strict=True):
        old = [(e.start, e.end) for e in ents if e.type not in NOT_MASKED]
        old_types.update(e.type for e in ents if e.type not in NOT_MASKED)
        new = [(e.start, e.end) for e in protected.find(text)]
        for m in mention.finditer(fold(text)):
            visible["mentions"] += 1
            visible["visible_old_policy"] += not any(s <= m.start() < e for s, e in old)
            visible["visible_protected_policy"] += not any(s <= m.start() < e for s, e in new)
        visible["masked_spans_protected_policy"] += len(new)
    return {"files": len(files), "child_mentions": visible["mentions"],
            "child_mentions_visible_old_policy": visible["visible_old_policy"],
            "child_mentions_visible_protected_policy": visible["visible_protected_policy"],
            "masked_spans_old_policy_by_type": dict(sorted(old_types.items())),
            "masked_spans_old_policy": sum(old_types.values()),
            "masked_spans_protected_policy": visible["masked_spans_protected_policy"]}


def cross_text(texts: list[str], gold: list[list[Span]]) -> dict[str, Any]:
    """False positives of the name matcher across texts: the first PERSON of every text is protected at once and the
    matches in the *other* texts are counted, except a word written exactly as in the protected name: on a word of
    another person (a name variant of someone else) or on no person at all (an ordinary word masked)."""
    owners = [(i, text[p[0][1]:p[0][2]]) for i, (text, gs) in enumerate(zip(texts, gold, strict=True))
              if (p := [g for g in gs if g[0] == "PERSON"])]
    matcher = ProtectedSet(tuple(ProtectedPerson(names=(name,)) for _, name in owners))
    counts = Counter[str]()
    for j, (text, gs) in enumerate(zip(texts, gold, strict=True)):
        for e in matcher.find(text):
            owner, name = owners[int(e.type.split("_")[1]) - 1]
            if owner == j or fold(e.text).strip() in fold(name).split():
                continue
            person = any(g[0] == "PERSON" and overlaps(("P", e.start, e.end), g) for g in gs)
            counts["other_person" if person else "no_person"] += 1
            counts["no_person_chars"] += 0 if person else e.end - e.start
    chars = sum(len(t) for t in texts)
    return {"protected_persons": len(owners), "texts": len(texts), "hits_on_other_persons": counts["other_person"],
            "hits_on_no_person": counts["no_person"],
            "no_person_chars_masked": round(counts["no_person_chars"] / chars, 5) if chars else 0.0}


def matcher_only(synth: Path) -> dict[str, Any]:
    keys = ("protected_recall", "protected_precision", "protected_gold_spans", "protected_name_words_visible",
            "non_pii_chars_masked_protected_policy")
    demo_view = demo(None)
    out: dict[str, Any] = {"demo": {k: v for k, v in demo_view.items() if "old_policy" not in k}}
    sets = {f"uk_gold_{split}": load_uk_gold(split=split) for split in ("dev", "heldout")}
    if synth.exists():
        texts, typed, _ = load_synth(synth, None)
        half = len(texts) // 2
        sets |= {"presidio_dev": (texts[:half], typed[:half]), "presidio_heldout": (texts[half:], typed[half:])}
    for name, (texts, gold) in sets.items():
        full = score(texts, gold, [[] for _ in texts])
        out[name] = {k: full[k] for k in keys}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help=f"first {QUICK_SYNTH} texts of the Presidio set")
    parser.add_argument("--matcher", action="store_true", help="only the protected matcher's recall/precision (demo, "
                        "UK gold splits, the whole Presidio set in dev/held-out halves); no tagger")
    parser.add_argument("--cross", action="store_true", help="only the name matcher's cross-text false positives "
                        "(Presidio set halves dev/held-out, UK gold splits); no tagger")
    args = parser.parse_args()
    from assistant.offline import apply_offline_env, install_egress_guard

    apply_offline_env()
    install_egress_guard(())
    from assistant.pii.tagger import PiiTagger

    settings = load_settings()
    if args.cross:
        texts, typed, _ = load_synth(settings.eval_data / SYNTH_REL, None)
        half = len(texts) // 2
        cross = {"presidio_dev": cross_text(texts[:half], typed[:half]),
                 "presidio_heldout": cross_text(texts[half:], typed[half:])}
        for split in ("dev", "heldout"):
            cross[f"uk_gold_{split}"] = cross_text(*load_uk_gold(split=split))
        print(json.dumps(cross, indent=1))
        return
    if args.matcher:
        print(json.dumps(matcher_only(settings.eval_data / SYNTH_REL), indent=1))
        return
    tagger = PiiTagger(settings.pii)
    out: dict[str, Any] = {"demo": demo(tagger)}
    for split in ("dev", "heldout"):
        texts, gold = load_uk_gold(split=split)
        pred = [[(e.type, e.start, e.end) for e in es] for es in tagger.tag_many(texts)]
        out[f"uk_gold_{split}"] = score(texts, gold, pred)
    synth = settings.eval_data / SYNTH_REL
    if synth.exists():
        texts, typed, _ = load_synth(synth, QUICK_SYNTH if args.quick else None)
        pred = [[(e.type, e.start, e.end) for e in es] for es in tagger.tag_many(texts)]
        out["presidio_synth"] = score(texts, typed, pred)
    else:
        out["presidio_synth"] = f"skipped: {synth} not found (eval_data setting)"
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
