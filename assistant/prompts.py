"""Prompts as data: Jinja templates in the repo's `prompts/` folder, rendered with StrictUndefined.

`render_answer_messages` builds the chat messages for a cited answer; `parse_answer` reads the one-claim-per-line
reply format that the system prompt asks for (`<sentence> [n] "verbatim quote"`, or exactly `NOT FOUND`).
Passage text is data: look-alikes of our delimiters and of chat-template special tokens are neutralised.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from assistant.types import Passage

PROMPT_VERSION = "answer-v2"
PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
NOT_FOUND = "NOT FOUND"
SYSTEM_TEMPLATE = "answer_system"
USER_TEMPLATE = "answer_user"

# `<passage`, `</passages>`, `<question>`, ... and ChatML / Llama special tokens such as `<|im_end|>`, `[INST]`.
_DELIMITER = re.compile(r"<(?=\s*/?\s*(?:passages?|question|system|user|assistant|instructions?)\b)|<(?=\|)|\|>",
                        re.IGNORECASE)
_INST = re.compile(r"\[(/?INST)\]", re.IGNORECASE)
_VERSION_HEADER = re.compile(r"prompt_version:\s*(\S+)")
_CITE = re.compile(r"\[(\d{1,3})\]\s*(?:([\"“”])(.*?)[\"“”])?")


def neutralise(text: str) -> str:
    """Make text safe to place inside a data block: delimiter look-alikes get a look-alike bracket (‹) so they
    cannot close the block or open a new turn. Everything else is kept verbatim so quotes still verify."""
    text = _DELIMITER.sub(lambda m: "‹" if m.group(0) == "<" else "|›", str(text))
    return _INST.sub(r"(\1)", text)


def attribute(value: object) -> str:
    """A value safe inside a double-quoted pseudo-XML attribute on one line."""
    text = neutralise(str(value)).replace('"', "'").replace("<", "‹").replace(">", "›")
    return " ".join(text.split())


@lru_cache(maxsize=8)
def _environment(prompts_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(prompts_dir)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain-text prompts; data blocks are protected by `neutralise`, not HTML escaping
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["data"] = neutralise
    env.filters["attr"] = attribute
    return env


def _file_name(name: str) -> str:
    return name if name.endswith(".j2") else f"{name}.j2"


def render(name: str, *, prompts_dir: Path | None = None, **variables: object) -> str:
    """Render `prompts/<name>.j2`. A variable the template uses but the caller did not pass raises
    `jinja2.UndefinedError`."""
    env = _environment((prompts_dir or PROMPTS_DIR).resolve())
    return env.get_template(_file_name(name)).render(**variables)


def template_names(prompts_dir: Path | None = None) -> list[str]:
    """Every template in the prompts folder, without the .j2 suffix."""
    return sorted(p.stem for p in (prompts_dir or PROMPTS_DIR).glob("*.j2"))


def template_version(name: str, prompts_dir: Path | None = None) -> str:
    """The `prompt_version:` declared in a template's header comment ("" when absent)."""
    source = ((prompts_dir or PROMPTS_DIR) / _file_name(name)).read_text(encoding="utf-8")
    match = _VERSION_HEADER.search(source)
    return match.group(1) if match else ""


def render_answer_messages(question: str, passages: Sequence[Passage], *,
                           prompts_dir: Path | None = None) -> list[dict[str, str]]:
    """System + user chat messages asking for a cited answer. Passage n in the prompt is `passages[n-1]`."""
    system = render(SYSTEM_TEMPLATE, prompts_dir=prompts_dir)
    user = render(USER_TEMPLATE, prompts_dir=prompts_dir, question=question, passages=list(passages))
    return [{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}]


@dataclass(frozen=True)
class ClaimLine:
    """One line of a model reply: the claim sentence and its (n, quote) citations; quote is "" when missing."""

    sentence: str
    citations: tuple[tuple[int, str], ...]
    line: str


@dataclass(frozen=True)
class ParsedAnswer:
    not_found: bool
    claims: tuple[ClaimLine, ...]


def parse_answer(text: str) -> ParsedAnswer:
    """Read a reply in the prompt's format, tolerantly: curly quotes, several citations per line, markers inside
    the sentence, list bullets. Lines without any [n] are kept with no citations (the verifier flags them).
    `not_found` is true when the reply says NOT FOUND and cites nothing."""
    claims: list[ClaimLine] = []
    mentions_not_found = False
    for raw in text.splitlines():
        line = raw.strip().lstrip("-*•").strip()
        if not line:
            continue
        if line.rstrip(".").upper() == NOT_FOUND or line.upper().startswith(NOT_FOUND):
            mentions_not_found = True
            continue
        citations = tuple((int(m.group(1)), (m.group(3) or "").strip()) for m in _CITE.finditer(line))
        sentence = _CITE.sub("", line).strip()
        sentence = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(sentence.split()))
        claims.append(ClaimLine(sentence=sentence, citations=citations, line=line))
    cited = any(c.citations for c in claims)
    return ParsedAnswer(not_found=mentions_not_found and not cited, claims=tuple(claims))
