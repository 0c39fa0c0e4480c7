"""Prompts as data: Jinja templates rendered with StrictUndefined, loaded through the package.

The templates live in the repository's top-level `prompts/` folder; `assistant/answer/templates` links to it, so a
source checkout and an installed wheel (which carries them as package data of `assistant.answer.answerer`) read the same
files through `importlib.resources`. `render_answer_messages` builds the chat messages for a cited answer; the reply
is read by `assistant.verify.verifier.parse_draft`. Passage text is data: look-alikes of our delimiters and of
chat-template special tokens are neutralised; message passages show their timestamps written out (`shown_text`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2

from assistant.text.timestamps import with_written_timestamps
from assistant.types import Passage

PROMPT_VERSION = "answer-v4"
PROMPTS_DIR = Path(str(resources.files("assistant.answer").joinpath("templates")))
SYSTEM_TEMPLATE = "answer_system"
USER_TEMPLATE = "answer_user"

# `<passage`, `</passages>`, `<question>`, ... and the chat-template tokens of the common model families: ChatML and
# Phi/Llama-3 `<|...|>`, Gemma `<start_of_turn>`/`<end_of_turn>`, `<s>`/`</s>`/`<bos>`/`<eos>`, Llama-2 `<<SYS>>`,
# Mistral `[INST]`/`[/INST]`/`[SYSTEM_PROMPT]`/`[TOOL_CALLS]`, DeepSeek/Qwen reasoning `<think>`.
_DELIMITER = re.compile(
    r"<(?=\s*/?\s*(?:passages?|question|system|user|assistant|instructions?|start_of_turn|end_of_turn|s|bos|eos|"
    r"pad|unk|sys|think|turn|eot|bot|start_of_image|end_of_image)\b)|<(?=\|)|\|>|<(?=｜)",
    re.IGNORECASE)
_INST = re.compile(r"\[(/?(?:INST|SYSTEM_PROMPT|TOOL_CALLS|AVAILABLE_TOOLS|TOOL_RESULTS))\]", re.IGNORECASE)
_VERSION_HEADER = re.compile(r"prompt_version:\s*(\S+)")


def neutralise(text: str) -> str:
    """Make text safe to place inside a data block: delimiter look-alikes get a look-alike bracket (‹) so they
    cannot close the block or open a new turn. Everything else is kept verbatim so quotes still verify."""
    text = _DELIMITER.sub(lambda m: "‹" if m.group(0) == "<" else "|›", str(text))
    return _INST.sub(r"(\1)", text)


def shown_text(passage: Passage) -> str:
    """A passage's text as the model reads it: message lines with their timestamps written out
    ("[Tuesday 14 March 2023, 19:02] ..."), so "today" in a message can be read as its date."""
    return with_written_timestamps(passage.text) if passage.kind == "messages" else passage.text


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
    env.filters["shown"] = shown_text
    return env


def _file_name(name: str) -> str:
    return name if name.endswith(".j2") else f"{name}.j2"


def render(name: str, *, prompts_dir: Path | None = None, **variables: object) -> str:
    """Render the template `<name>.j2`. A variable the template uses but the caller did not pass raises
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
