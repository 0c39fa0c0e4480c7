"""`assistant timeline --person NAME --case C [--about TOPIC] [--user U] [--json]`: one person's timeline over every
passage of the case, shown through the links package's `LinkView` like the case timeline: the role is the --user's
(else the account named like the OS user, else `pii.cli_role`), protected persons are masked for roles not cleared,
strict roles are refused, a --person or --about naming a protected person is refused, and the view is audited."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.app import App
    from assistant.links.masking import LinkView
    from assistant.types import Answer


def shown_answer(answer: Answer, view: LinkView) -> Answer:
    """Every string of the timeline answer a reader sees, passed through the view's masking."""
    return view.answer(answer)


def run_person_timeline(args: argparse.Namespace, app: App, view: LinkView) -> int:
    from assistant.answer.message_cite import pin_messages
    from assistant.conversation.person_timeline import collect, timeline_answer, timeline_json
    from assistant.conversation.routes import case_passages
    from assistant.conversation.timeline_request import TimelineRequest
    from assistant.text.lexicon import content_terms

    person = " ".join(args.person.split())
    if not person:
        raise AssistantError("--person needs a name: assistant timeline --person 'Marek Wolski' --case kestrel")
    request = TimelineRequest(person, tuple(dict.fromkeys(content_terms(args.about))), topic_text=args.about.strip())
    timeline = collect(case_passages(app.store, args.case, None), request)
    answer, entries = timeline_answer(person, args.case, timeline, cap=False)
    shown = shown_answer(pin_messages(answer), view)  # a message citation names its one message
    if args.json:
        print(json.dumps(timeline_json(shown, entries, timeline, view.text), ensure_ascii=False, indent=2))
        return 0
    print(shown.answer)
    for c in shown.citations:
        print(f"  [{c.n}] {c.source} — {c.locator}")
    return 0
