"""One person's timeline: in the chat ("When did X go missing?", "timeline of X") and as `assistant timeline --person`,
over the real App with the demo case (`demo_app`), every line cited verbatim, in time order, undated mentions apart,
gaps stated; the CLI's output goes through the links package's LinkView for the asker's role."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from assistant.access.session import Session
from assistant.conversation.timeline_request import timeline_request
from assistant.text.messages import message_records
from tests.test_citation_spans import ensure_users

_CITE = re.compile(r"\[(\d+)\]$")
EPISODES = ("2023-01-21", "2023-03-10", "2023-03-22")  # the missing reports of the mother's statement


@pytest.mark.parametrize(("question", "person", "topic", "start"), [
    ("Give me a timeline of the times Kacper went missing and what happened each time", "Kacper", ("miss",), ""),
    ("When did Kacper go missing?", "Kacper", ("miss",), ""),
    ("Timeline of Marek Wolski", "Marek Wolski", (), ""),
    ("Chronology for Marek Wolski in March 2023", "Marek Wolski", (), "2023-03-01"),
    ("List the dates Jane went missing and what happened on each occasion", "Jane", ("miss",), ""),
    ("Put the events involving John Smith in date order", "John Smith", (), ""),
    ("John Smith's messages in chronological order in May 2021", "John Smith", ("messag",), "2021-05-01"),
])
def test_timeline_requests(question: str, person: str, topic: tuple[str, ...], start: str) -> None:
    request = timeline_request(question)
    assert request is not None and (request.person, request.topic, request.start) == (person, topic, start)


@pytest.mark.parametrize("question", ["Timeline of contact between Marek and Kacper", "Timeline of 07700 900418",
                                      "When did Marek buy the car?", "What is the timeline?",
                                      "Timeline of Marek in the spring of 2023",
                                      "List the dates of birth of John Smith and Jane Doe",
                                      "What times did Jane call?"])
def test_other_questions_are_not_person_timelines(question: str) -> None:
    assert timeline_request(question) is None


def _dated_lines(text: str) -> list[str]:
    head = text.split("\nMentioned without a date:")[0].split("\nGaps:")[0]
    return [ln for ln in head.splitlines() if ln.startswith("- ") and _CITE.search(ln)]


def test_missing_episodes_in_the_chat_every_line_cited_in_time_order(demo_app: Any) -> None:
    ensure_users(demo_app)
    session = Session.for_username(demo_app, "supervisor1")
    answer = session.ask("kestrel", "Give me a timeline of the times Kacper went missing and what happened each time")
    assert answer.backend == "person-timeline" and answer.status == "answered"
    lines = _dated_lines(answer.answer)
    days = [ln[2:12] for ln in lines]
    assert days == sorted(days) and all(d in days for d in EPISODES)
    numbers = [int(_CITE.search(ln).group(1)) for ln in answer.answer.splitlines()  # type: ignore[union-attr]
               if ln.startswith("- ") and _CITE.search(ln)]
    assert numbers == [c.n for c in answer.citations]
    for line, c in zip(lines, answer.citations, strict=False):
        passage = demo_app.get_chunk("kestrel", c.chunk_id)
        assert passage is not None and passage.text[c.quote_start:c.quote_start + len(c.quote)] == c.quote
        assert " ".join(c.quote.split()) in line
        record = next((m for m in message_records(passage.meta) if m.start <= c.quote_start < m.end), None)
        if record is not None:  # a message line is dated by the message's own timestamp, and names one message
            assert record.timestamp[:10] == line[2:12] and record.message_id in c.locator
    assert "\nMentioned without a date:" in answer.answer and "\nGaps:\n- nothing dated between" in answer.answer
    record = demo_app.audit.records(kind="answer", user="supervisor1")[-1]
    assert record.payload["backend"] == "person-timeline"


def test_when_did_x_go_missing_and_a_period_filter(demo_app: Any) -> None:
    from assistant.types import RetrievalFilters

    answer = demo_app.ask("kestrel", "When did Kacper go missing?",
                          filters=RetrievalFilters(date_from="2023-03-01", date_to="2023-03-31"))
    days = [ln[2:12] for ln in _dated_lines(answer.answer)]
    assert days and all("2023-03-01" <= d <= "2023-03-31" for d in days) and "2023-03-10" in days
    assert "Mentioned without a date:" not in answer.answer  # a period was asked: what happened in it


def test_unknown_person_is_not_found(demo_app: Any) -> None:
    answer = demo_app.ask("kestrel", "Timeline of Bartholomew Quince")
    assert answer.status == "no_evidence" and not answer.citations


def test_cli_person_timeline_json_and_the_old_use(demo_app: Any, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli.main import main

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(demo_app.settings.index_dir))
    assert main(["timeline", "--case", "kestrel", "--person", "Marek Wolski", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    whens = [e["when"][:19] for e in out["events"]]
    assert whens == sorted(whens) and len(whens) > 40  # every event, not the chat's first 40
    assert out["person"] == "Marek Wolski" and out["gaps"] and out["undated"]
    for e in out["events"] + out["undated"]:
        passage = demo_app.get_chunk("kestrel", e["citation"]["chunk_id"])
        assert passage is not None and e["quote"] in passage.text and e["line"].endswith(f"[{e['citation']['n']}]")
    assert main(["timeline", "--case", "kestrel", "--json"]) == 0  # the case timeline is unchanged: a list
    assert isinstance(json.loads(capsys.readouterr().out), list)


def test_cli_person_timeline_masks_a_protected_person(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli.main import main

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "indexes"))
    folder = tmp_path / "case"
    folder.mkdir()
    (folder / "statement.txt").write_text(
        "On Monday 6th March 2023 at 18:00 Tomas Varga collected Ola Mazur from school in a grey van.\n\n"
        "Tomas Varga was seen again on 9 March 2023 at 21:15 outside 4 Mill Lane. Varga drives a grey van.\n",
        encoding="utf-8")
    (folder / "messages.csv").write_text(
        "message_id,thread_id,timestamp,sender,recipient,body\n"
        "m1,t1,2023-03-07T20:01:00+00:00,Tomas,Ola,be ready at eight\n", encoding="utf-8")
    (folder / "protected.json").write_text(json.dumps([{"names": ["Ola Mazur"]}]), encoding="utf-8")
    assert main(["ingest", str(folder), "--case", "c1", "--no-progress"]) == 0
    capsys.readouterr()
    from assistant.app import App
    from assistant.config import load_settings

    app = App(load_settings())
    app.users.rounds = 4
    app.users.add_user("rev-c1", "c1-review-pass", "reviewer")
    app.users.assign("rev-c1", "c1")
    assert main(["timeline", "--case", "c1", "--person", "Tomas Varga", "--user", "rev-c1", "--json"]) == 0
    shown = capsys.readouterr().out
    out = json.loads(shown)
    assert [e["when"][:10] for e in out["events"]] == ["2023-03-06", "2023-03-07", "2023-03-09"]
    assert "Ola" not in shown and "Mazur" not in shown and "<PROTECTED_1_NAME>" in shown and "Varga" in shown
    assert out["undated"] and "drives a grey van" in out["undated"][0]["quote"]
    assert main(["timeline", "--case", "c1", "--person", "Ola", "--user", "rev-c1"]) != 0  # names a protected person
    assert "protected person" in capsys.readouterr().err
    assert main(["timeline", "--case", "c1", "--person", "Tomas Varga"]) == 0  # the index's owner: pii.cli_role
    assert "Ola Mazur" in capsys.readouterr().out


def test_pronoun_sentences_follow_the_person_within_a_paragraph_and_gaps_are_stated() -> None:
    from assistant.conversation.person_timeline import collect, timeline_answer
    from assistant.conversation.timeline_request import TimelineRequest
    from assistant.types import Passage

    text = ("On 5 May 2023 Ann Lee left home. She was found on 6 May 2023 at 10:00. Ann Lee lives in Ashmere.\n\n"
            "He was seen on 7 May 2023. Ann Lee came back on 20 May 2023.")
    passage = Passage(chunk_id="c1", case="k", source="s.txt", locator="p. 1", text=text, score=1.0)
    timeline = collect([passage], TimelineRequest("Ann Lee"))
    assert [(e.when, e.quote) for e in timeline.events] == [
        ("2023-05-05", "On 5 May 2023 Ann Lee left home."),
        ("2023-05-06T10:00", "She was found on 6 May 2023 at 10:00."),
        ("2023-05-20", "Ann Lee came back on 20 May 2023.")]  # "He ..." after a paragraph break is someone else
    assert [e.quote for e in timeline.undated] == ["Ann Lee lives in Ashmere."]
    assert timeline.gaps() == [("2023-05-06", "2023-05-20", 14)]
    answer, entries = timeline_answer("Timeline of Ann Lee", "k", timeline)
    assert "- nothing dated between 2023-05-06 and 2023-05-20 (14 days)" in answer.answer
    assert [c.quote for c in answer.citations] == [e.quote for e in entries]
    missed = collect([passage], TimelineRequest("Ann Lee", ("arrest",), topic_text="arrested"))
    assert missed.topic_missed and len(missed.events) == 3
    assert "No event about Ann Lee mentions “arrested”" in timeline_answer("q", "k", missed)[0].answer


def test_a_sentence_with_several_dates_is_one_line_under_its_first_date() -> None:
    """Issue 18: a sentence naming three dates was listed three times. One line, under the first date it names (or,
    with a period, the first date inside it), listing the other dates; the case timeline likewise."""
    from assistant.conversation.person_timeline import collect, timeline_answer
    from assistant.conversation.timeline_request import TimelineRequest
    from assistant.links.timeline import build_timeline
    from assistant.types import Passage

    text = ("Ann Lee was reported missing on 3 February 2023, on 22 March 2023 and again on 14 April 2023. "
            "On 1 May 2023 Ann Lee moved to Dunford.")
    passage = Passage(chunk_id="c1", case="k", source="s.txt", locator="p. 1", text=text, score=1.0)
    timeline = collect([passage], TimelineRequest("Ann Lee"))
    assert [(e.when, e.also) for e in timeline.events] == [("2023-02-03", ("2023-03-22", "2023-04-14")),
                                                          ("2023-05-01", ())]
    answer, _ = timeline_answer("Timeline of Ann Lee", "k", timeline)
    assert answer.answer.count("reported missing") == 1
    assert "- 2023-02-03 (also names 2023-03-22, 2023-04-14): Ann Lee was reported missing" in answer.answer
    march = collect([passage], TimelineRequest("Ann Lee", start="2023-03-01", end="2023-03-31", period="March 2023"))
    assert [(e.when, e.also) for e in march.events] == [("2023-03-22", ("2023-02-03", "2023-04-14"))]
    events = build_timeline([("c1", text, {"kind": "text", "source": "s.txt", "locator": "p. 1"})])
    assert [(e.timestamp, e.also) for e in events] == [("2023-02-03", ("2023-03-22", "2023-04-14")),
                                                       ("2023-05-01", ())]
    assert events[0].to_json()["also_dates"] == ["2023-03-22", "2023-04-14"]
