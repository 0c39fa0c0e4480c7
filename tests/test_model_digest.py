"""A person digest drafted by the model (ScriptedBackend through the real Backend interface), every line verified by
the product's verifier against the real demo passages; unverified lines removed and named; the extractive digest
as the fallback. Real App, Chroma, Presidio and embedder over the demo case (`demo_app`)."""

from __future__ import annotations

import dataclasses
from typing import Any

from assistant.conversation.model_digest import PROMPT_VERSION, draft_groups
from assistant.conversation.routes import digest_route
from assistant.types import Answer
from tests.fakes import ScriptedBackend

QUESTION = "What do we know about Marek Wolski?"


def _numbered(app: Any) -> tuple[Answer, dict[str, int]]:
    """The extractive digest and the prompt number of the passage holding each phrase the script cites."""
    extractive = digest_route(app.store, "kestrel", QUESTION, None)
    assert extractive is not None and extractive.backend == "extractive-digest"
    phrases = ("(DOB 11/09/1994), a Polish national", "WOLSKI drives a silver Vauxhall Corsa",
               "hi little man you have a new phone")
    return extractive, {ph: next(n for n, p in enumerate(extractive.retrieved, start=1) if ph in p.text)
                        for ph in phrases}


def _route(app: Any, backend: ScriptedBackend) -> Answer:
    settings = app.settings.model_copy(update={"llm": app.settings.llm.model_copy(update={"digest_by_model": True})})
    answer = digest_route(app.store, "kestrel", QUESTION, None, backend=backend, embedder=app.embedder,
                          settings=settings)
    assert answer is not None
    return answer


def test_model_lines_verified_unsupported_removed_and_named(demo_app: Any) -> None:
    extractive, n = _numbered(demo_app)
    invented = "WOLSKI also drives a red Ferrari, registration AB12 CDE"
    who = n["(DOB 11/09/1994), a Polish national"]
    draft = (f"Identity and aliases:\n- Marek WOLSKI (DOB 11/09/1994), a Polish national living at 8 Tanners "
             f"Yard, Ashmere, is running a drug supply line from Ashmere into Dunford [{who}]\n"
             f"Vehicles:\n- WOLSKI drives a silver Vauxhall Corsa, registration LK19 XRT "
             f"[{n['WOLSKI drives a silver Vauxhall Corsa']}]\n- {invented} "
             f"[{n['WOLSKI drives a silver Vauxhall Corsa']}]\n"
             f"Events in time order:\n- 2023-01-14: Marek told Kacper: hi little man you have a new phone "
             f"[{n['hi little man you have a new phone']}]\n")
    backend = ScriptedBackend([draft], model="scripted-digest")
    answer = _route(demo_app, backend)
    assert (answer.backend, answer.model, answer.prompt_version) == ("fake", "scripted-digest", PROMPT_VERSION)
    assert [g for g in ("Identity and aliases:", "Vehicles:", "Events in time order:") if g in answer.answer] == [
        "Identity and aliases:", "Vehicles:", "Events in time order:"]
    assert "Ferrari" not in answer.answer and invented in answer.flagged_claims
    assert any("removed" in note and "Ferrari" in note for note in answer.notes)
    lines = [ln for ln in answer.answer.splitlines() if ln.startswith("- ")]
    assert len(lines) == len(answer.citations) == 3 and all(ln.endswith(f"[{c.n}]")
                                                           for ln, c in zip(lines, answer.citations, strict=True))
    for c in answer.citations:
        passage = demo_app.get_chunk("kestrel", c.chunk_id)
        assert c.verified and passage is not None and passage.text[c.quote_start:].startswith(c.quote)
    prompt = backend.prompts[0][0]["content"]
    assert prompt.count("<passage n=") == len(extractive.retrieved) and "digest of Marek Wolski" in prompt


def test_extractive_digest_when_the_model_fails_or_nothing_verifies(demo_app: Any) -> None:
    extractive, _ = _numbered(demo_app)
    failed = _route(demo_app, ScriptedBackend([RuntimeError("model crashed")]))
    assert failed.backend == "extractive-digest" and failed.answer == extractive.answer
    assert "The model failed (RuntimeError)" in failed.notes[0]
    nothing = _route(demo_app, ScriptedBackend(["Vehicles:\n- Marek owns a yacht called Sea Wolf [1]"]))
    assert nothing.backend == "extractive-digest" and nothing.answer == extractive.answer
    assert "No line of the model's digest" in nothing.notes[0] and "Sea Wolf" in nothing.notes[1]


def test_the_app_drafts_digests_with_its_configured_model(demo_app: Any) -> None:
    from assistant.app import App
    from assistant.llm import Selection

    default = App(demo_app.settings)  # the extractive digest unless digest_by_model is set
    default.__dict__["backend"] = Selection(ScriptedBackend(["Vehicles:\n- a car [1]"]))
    assert default.ask("kestrel", QUESTION, user="eval").backend == "extractive-digest"
    app = App(demo_app.settings.model_copy(update={"llm": demo_app.settings.llm.model_copy(
        update={"digest_by_model": True})}))
    _, n = _numbered(app)
    backend = ScriptedBackend([f"Vehicles:\n- WOLSKI drives a silver Vauxhall Corsa, registration LK19 XRT "
                               f"[{n['WOLSKI drives a silver Vauxhall Corsa']}]"])
    app.__dict__["backend"] = Selection(backend)  # the cached selection, as `select_backend` would return it
    answer = app.ask("kestrel", QUESTION, user="eval")
    assert answer.backend == "fake" and len(answer.citations) == 1 and len(backend.prompts) == 1
    record = app.audit.records(kind="answer", user="eval")[-1]
    assert record.payload["backend"] == "fake" and record.payload["prompt_version"] == PROMPT_VERSION


def test_draft_groups_read_headings_in_any_dress() -> None:
    draft = "Intro line [1]\n**Vehicles:**\n- a car [2]\n\n### Events in time order\n- 2023-01-01 x [3]"
    assert draft_groups(draft) == [("", ["Intro line [1]"]), ("Vehicles", ["- a car [2]"]),
                                   ("Events in time order", ["- 2023-01-01 x [3]"])]
    assert dataclasses.is_dataclass(Answer)
