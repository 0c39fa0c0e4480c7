"""Check the gold questions of the demo case against the case files.

    .venv/bin/python demo/check_gold.py [--gold evals/cases/demo.jsonl] [--case-dir demo/operation-kestrel]
    .venv/bin/python demo/check_gold.py --heldout    # evals/cases/demo_heldout.jsonl on demo/operation-lapwing

For every gold question: the fields are present and typed; answerable questions have an answer, 1+ sources
that exist, and evidence strings of 5-20 words that each occur verbatim (whitespace normalised only) in a named
source and in no file that is not named; unanswerable ones have an empty answer and no evidence. Text is taken
from PDFs with pypdf, from DOCX with python-docx (paragraphs and table cells), from e-mails' text/plain parts,
and from message CSVs per message (body or translation; one evidence string must match exactly one message).
It also checks the message export itself and that every phone number and IMEI in the demo and test corpora is
fictional (Ofcom drama ranges, valid Luhn). Prints a summary; exits 1 on any problem.
"""

from __future__ import annotations

import argparse
import csv
import email
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {"id": str, "case": str, "question": str, "answer": str, "evidence": list, "sources": list,
            "answerable": bool, "kind": str}
MIN_KINDS = {"identifier": 5, "translated": 5, "fact": 6, "pdf": 1, "docx": 1, "eml": 1}
MIN_UNANSWERABLE = 5
# The held-out part (a case written after the answer rules were frozen): prose statements and one message export
HELDOUT_MIN_KINDS = {"identifier": 4, "translated": 4, "fact": 10}
HELDOUT_MIN_QUESTIONS = 25
MESSAGE_COLUMNS = ["message_id", "thread_id", "timestamp", "sender", "recipient", "language", "body",
                   "translation", "device"]
TEXT_SUFFIXES = {".txt", ".md"}


def norm(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Source:
    """One case file as searchable units: a single unit for prose, one unit per message for CSVs."""

    path: str
    units: list[str] = field(default_factory=list)
    per_message: bool = False

    def count(self, needle: str) -> int:
        return sum(unit.count(needle) for unit in self.units)


def extract(path: Path) -> tuple[list[str], bool]:
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return [norm(path.read_text(encoding="utf-8"))], False
    if suffix == ".pdf":
        from pypdf import PdfReader

        return [norm(" ".join(page.extract_text() or "" for page in PdfReader(path).pages))], False
    if suffix == ".docx":
        import docx

        document = docx.Document(str(path))
        parts = [p.text for p in document.paragraphs]
        parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        return [norm("\n".join(parts))], False
    if suffix == ".eml":
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        parts = [part.get_content() for part in message.walk() if part.get_content_type() == "text/plain"]
        return [norm("\n".join(parts))], False
    if suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        units = [norm(row["body"]) for row in rows] + [norm(row["translation"]) for row in rows if row["translation"]]
        return units, True
    raise ValueError(f"no extractor for {path.name}")


def load_case(case_dir: Path) -> dict[str, Source]:
    sources = {}
    for path in sorted(case_dir.rglob("*")):
        if path.is_file() and path.name != "README.md":
            rel = path.relative_to(case_dir).as_posix()
            units, per_message = extract(path)
            sources[rel] = Source(rel, units, per_message)
    return sources


def check_item(item: dict[str, object], sources: dict[str, Source], errors: list[str]) -> None:
    qid = str(item.get("id", "?"))
    for key, typ in REQUIRED.items():
        if not isinstance(item.get(key), typ):
            errors.append(f"{qid}: field {key!r} missing or not {typ.__name__}")
            return
    evidence = [str(e) for e in item["evidence"]]  # type: ignore[attr-defined]
    named = [str(s) for s in item["sources"]]  # type: ignore[attr-defined]
    if not str(item["question"]).strip().endswith("?"):
        errors.append(f"{qid}: question should end with '?'")
    if not item["answerable"]:
        if item["answer"] or evidence:
            errors.append(f"{qid}: unanswerable question must have answer '' and evidence []")
        return
    if not str(item["answer"]).strip() or not evidence or not named:
        errors.append(f"{qid}: answerable question needs answer, evidence and sources")
        return
    for rel in named:
        if rel not in sources:
            errors.append(f"{qid}: source {rel!r} is not a case file")
    supported: set[str] = set()
    for quote in evidence:
        words = len(quote.split())
        if not 5 <= words <= 20:
            errors.append(f"{qid}: evidence has {words} words (want 5-20): {quote!r}")
        needle = norm(quote)
        hits = {rel: src.count(needle) for rel, src in sources.items() if src.count(needle)}
        in_named = [rel for rel in named if rel in hits]
        if not in_named:
            errors.append(f"{qid}: evidence not found verbatim in {named}: {quote!r}")
            continue
        supported.update(in_named)
        outside = sorted(set(hits) - set(named))
        if outside:
            errors.append(f"{qid}: evidence also occurs in unnamed source(s) {outside}: {quote!r}")
        for rel in in_named:
            if hits[rel] > 1:
                errors.append(f"{qid}: evidence occurs {hits[rel]} times in {rel}, not unique: {quote!r}")
    for rel in named:
        if rel in sources and rel not in supported:
            errors.append(f"{qid}: source {rel!r} supports none of the evidence strings")


def check_messages(case_dir: Path, errors: list[str]) -> Counter[str]:
    languages: Counter[str] = Counter()
    for path in sorted(case_dir.rglob("*_messages.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != MESSAGE_COLUMNS:
                errors.append(f"{path.name}: columns {reader.fieldnames} != {MESSAGE_COLUMNS}")
                continue
            seen: set[str] = set()
            for row in reader:
                mid = row["message_id"]
                if mid in seen:
                    errors.append(f"{path.name}: duplicate message_id {mid}")
                seen.add(mid)
                try:
                    datetime.fromisoformat(row["timestamp"])
                except ValueError:
                    errors.append(f"{path.name}: {mid} timestamp is not ISO 8601: {row['timestamp']!r}")
                lang = row["language"]
                languages[lang] += 1
                if lang == "en" and row["translation"]:
                    errors.append(f"{path.name}: {mid} is English but has a translation")
                if lang != "en" and not row["translation"]:
                    errors.append(f"{path.name}: {mid} is {lang!r} but has no translation")
                if not row["body"].strip():
                    errors.append(f"{path.name}: {mid} has an empty body")
    return languages


PHONE_RE = re.compile(r"(?<![\w/+])(\+44\s?\d{4}|\(?0\d{4}\)?)\s?(\d{3})\s?(\d{3})(?![\w/])")
IMEI_RE = re.compile(r"\b\d{15}\b")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def check_identifiers(folders: list[Path], errors: list[str]) -> int:
    """Every UK phone number must be in an Ofcom drama range; every 15-digit number must pass Luhn (IMEI)."""
    found = 0
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.suffix.lower() not in {".txt", ".md", ".csv", ".eml", ".pdf", ".docx"}:
                continue
            if "bad" in path.relative_to(folder).parts:
                continue  # tests/corpus/bad is broken on purpose
            units, _ = extract(path)
            text = " ".join(units)
            for match in PHONE_RE.finditer(text):
                digits = re.sub(r"\D", "", "".join(match.groups()))
                digits = "0" + digits[2:] if digits.startswith("44") else digits
                found += 1
                mobile = digits.startswith("07700") and 900000 <= int(digits[5:]) <= 900999
                landline = digits.startswith("01632") and 960000 <= int(digits[5:]) <= 960999
                if not (mobile or landline):
                    errors.append(f"{path.relative_to(ROOT)}: phone number outside drama ranges: {match.group(0)!r}")
            for match in IMEI_RE.finditer(text):
                if not luhn_ok(match.group(0)):
                    errors.append(f"{path.relative_to(ROOT)}: 15-digit number fails Luhn: {match.group(0)}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=ROOT / "evals" / "cases" / "demo.jsonl")
    parser.add_argument("--case-dir", type=Path, default=ROOT / "demo" / "operation-kestrel")
    parser.add_argument("--heldout", action="store_true",
                        help="check evals/cases/demo_heldout.jsonl on demo/operation-lapwing (25+ questions)")
    args = parser.parse_args(argv)
    min_kinds, min_questions = MIN_KINDS, 0
    if args.heldout:
        args.gold = ROOT / "evals" / "cases" / "demo_heldout.jsonl"
        args.case_dir = ROOT / "demo" / "operation-lapwing"
        min_kinds, min_questions = HELDOUT_MIN_KINDS, HELDOUT_MIN_QUESTIONS

    errors: list[str] = []
    sources = load_case(args.case_dir)
    items = []
    for number, line in enumerate(args.gold.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as exc:
            errors.append(f"line {number}: not JSON ({exc})")
    ids = Counter(str(item.get("id")) for item in items)
    errors += [f"duplicate id {qid}" for qid, n in ids.items() if n > 1]
    for item in items:
        check_item(item, sources, errors)

    kinds = Counter(str(item.get("kind")) for item in items if item.get("answerable"))
    unanswerable = sum(1 for item in items if item.get("answerable") is False)
    if len(items) < min_questions:
        errors.append(f"{len(items)} gold questions, want at least {min_questions}")
    for kind, minimum in min_kinds.items():
        if kinds[kind] < minimum:
            errors.append(f"kind {kind!r}: {kinds[kind]} answerable questions, want at least {minimum}")
    if unanswerable < MIN_UNANSWERABLE:
        errors.append(f"{unanswerable} unanswerable questions, want at least {MIN_UNANSWERABLE}")

    languages = check_messages(args.case_dir, errors)
    phones = check_identifiers([args.case_dir, ROOT / "tests" / "corpus"], errors)

    print(f"case files: {len(sources)} ({', '.join(sorted(sources))})")
    print(f"messages by language: {dict(sorted(languages.items()))}")
    print(f"phone numbers checked: {phones}")
    print(f"gold questions: {len(items)}; answerable by kind: {dict(sorted(kinds.items()))}; "
          f"unanswerable: {unanswerable}")
    if errors:
        print(f"FAILED: {len(errors)} problem(s)")
        for error in errors:
            print(f"  - {error}")
        return 1
    print("OK: every evidence string occurs verbatim in its named source(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
