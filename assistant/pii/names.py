"""One-word lower-case names in informal messages: a gazetteer of first names common in UK case material, cue
gated for names that are also words, and the 'name:' sender prefix of a message line."""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

# First names common in UK case material (British, Irish, Polish, Romanian, Albanian, Lithuanian, Slovak, Czech,
# Kurdish, South Asian, Arabic, West African). Only lower-case tokens are looked up: capitalised names are NER's job.
FIRST_NAMES = frozenset("""
aaron adam adrian aidan aisha alan albi alex alexandru alfie ali alin alina amir amira amy andrei andreea andrew
andrzej anna anca ardit arian arjun asif aurel ayesha bartek bekim besnik bilal bogdan bradley callum carl catalin
ciprian chloe claudiu connor cosmin craig dan daniel daniela danny darius darren dawid dean denis dorin dylan elena
emil emma eryk faisal fatima fatjon florin gabi gavin gheorghe gjergj hamza hassan ibrahim imran ioana ion ionel
ionela ionut irfan jake jakub jamal jamie jason jayden jordan jonas kacper kamil karol kasia katie kayleigh keeley
kelly kieran klaudia kyle lacey leah lewis liam lukas luca lukasz mariana marcin marek maria marius mateusz mihai
mirela mohammed muhammad nadia naveed nicu nicoleta nikola ola oliwia omar ovidiu patryk paulina petra piotr radu
rafal razvan reece rhys rizwan robert robbie rubin ryan sabina saif sameer sandu sarah sebastian shabir shane
shannon sorin stefan tariq tomasz tyler valentin vasile viktor vlad wojtek yasmin zain zoltan zuzana
""".split())
# Names that are also everyday words: only with a cue ('tell jade', 'jade said').
AMBIGUOUS_NAMES = frozenset("jade amber ruby rose grace hope will mark bill jack frank dawn may ray sky crystal "
                            "angel summer faith guy art don rob sue pat paris".split())
_CUE_BEFORE = frozenset("tell told ask asked call ring text txt msg message meet met from to with and by for see saw "
                        "give gave".split())
_CUE_AFTER = frozenset("said says say told asked is was has had will wants wanted new sent called texted knows "
                       "says".split())
_NOT_SENDERS = frozenset("note sender from to re fw fwd subject date time ps btw lol ok okay yes no answer question "
                         "reply me you him her them us we they translation original message body http https www ftp "
                         "where when what who why how which address phone email website name dob age info tel "
                         "mobile".split())


LOWERCASE_NAME_RECOGNIZER = "UkLowercaseNameRecognizer"


class LowercaseNameRecognizer(EntityRecognizer):  # type: ignore[misc]
    """PERSON for one-word lower-case names in informal text: gazetteer names, cue-gated ambiguous names, and the
    'name:' sender prefix of a message line."""

    TOKEN = re.compile(r"(?<![@.\w])[a-z]{3,14}(?![\w@]|\.\w)")
    SENDER = re.compile(r"^[ \t]*([a-z]{3,14}):(?!//)[ \t]*\S", re.MULTILINE)

    def __init__(self) -> None:
        super().__init__(supported_entities=["PERSON"], name=LOWERCASE_NAME_RECOGNIZER, supported_language="en")

    def load(self) -> None:
        return None

    @staticmethod
    def _words_around(text: str, start: int, end: int) -> tuple[str, str]:
        before = re.findall(r"[a-z]+", text[max(0, start - 20):start].lower())
        after = re.findall(r"[a-z]+", text[end:end + 20].lower())
        return (before[-1] if before else ""), (after[0] if after else "")

    def analyze(self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
                ) -> list[RecognizerResult]:
        if entities and "PERSON" not in entities:
            return []
        found: dict[tuple[int, int], float] = {}
        for m in self.SENDER.finditer(text):
            if m.group(1) not in _NOT_SENDERS:
                found[m.span(1)] = 0.65
        for m in self.TOKEN.finditer(text):
            word = m.group(0)
            if word not in FIRST_NAMES and word not in AMBIGUOUS_NAMES:
                continue
            prev, nxt = self._words_around(text, m.start(), m.end())
            cue = prev in _CUE_BEFORE or nxt in _CUE_AFTER or text[m.end():m.end() + 1] == ":"
            if word in AMBIGUOUS_NAMES and not cue:
                continue
            found.setdefault(m.span(), 0.7 if cue else 0.5)
        return [RecognizerResult(entity_type="PERSON", start=s, end=e, score=score,
                                 recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: LOWERCASE_NAME_RECOGNIZER,
                                                       RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id})
                for (s, e), score in found.items()]
