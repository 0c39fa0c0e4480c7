"""`assistant timeline --person NAME --case C [--about TOPIC] [--role R] [--json]`: one person's timeline over every
passage of the case, shown as the role may see it (protected persons and, for strict roles, every identifier
masked by App.mask_answer); without a role or user, clear text, as `assistant ask`."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from assistant.errors import AssistantError

if TYPE_CHECKING:
    from assistant.app import App


def run_person_timeline(args: argparse.Namespace, app: App) -> int:
    from assistant.answer.message_cite import pin_messages
    from assistant.conversation.person_timeline import collect, timeline_answer, timeline_json
    from assistant.conversation.routes import case_passages
    from assistant.conversation.timeline_request import TimelineRequest
    from assistant.text.lexicon import content_terms

    person = " ".join(args.person.split())
    if not content_terms(person) and not person:
        raise AssistantError("--person needs a name: assistant timeline --person 'Marek Wolski' --case kestrel")
    request = TimelineRequest(person, tuple(dict.fromkeys(content_terms(args.about))), topic_text=args.about.strip())
    timeline = collect(case_passages(app.store, args.case, None), request)
    answer, entries = timeline_answer(person, args.case, timeline, cap=False)
    answer = pin_messages(answer)  # a message citation names its one message
    user = app.users.get(args.user) if args.user else None
    role = args.role or (user.role if user is not None else "")
    shown = app.mask_answer(answer, role) if role else answer
    if args.json:
        print(json.dumps(timeline_json(shown, entries, timeline), ensure_ascii=False, indent=2))
        return 0
    print(shown.answer)
    for c in shown.citations:
        print(f"  [{c.n}] {c.source} — {c.locator}")
    return 0
