"""What counts as quoting a forgotten text (``memory_graph.quotes``): codes (numbers and
identifiers, not years, dates, times or ordinals) wherever they came from, runs of six
words of the user's, matched regardless of case and punctuation and cut out whole."""

from __future__ import annotations

from memory_graph.quotes import Quotes, Traces, codes_in
from memory_graph.text import tokenize

TOLD = ("My gym locker code is ZEBRA-7391, my PIN 4417. I moved here in 2019, on "
        "2024-05-01 at 10:00, my 21st birthday. I was diagnosed with bipolar disorder "
        "last spring.")


def test_codes_are_numbers_and_identifiers_not_dates_or_times() -> None:
    assert codes_in(TOLD) == {"zebra-7391", "7391", "4417"}
    assert codes_in("Call +351 912 345 678 or card 4111-1111-1111-1111.") == {
        "+351", "4111-1111-1111-1111", "4111", "1111"}


def test_a_quote_is_found_whatever_its_case_and_cut_out_whole() -> None:
    quotes = Quotes.of([TOLD])
    assert quotes.scrub("Your code: zebra-7391 (it ends in 7391).") == \
        "Your code: [forgotten] (it ends in [forgotten])."
    assert quotes.scrub("You said you were Diagnosed with bipolar disorder, last spring!") \
        == "You said you were [forgotten]!"
    for unrelated in ("ZEBRA-73915", "In 2019 at 10:00 on 2024-05-01", "My 21st birthday",
                      "I was diagnosed with the flu last spring"):
        assert quotes.spans(unrelated) == [], unrelated


def test_a_replys_wording_is_no_quote_but_its_codes_are() -> None:
    reply = "Noted: 4417. Is there anything else I can help you with today?"
    quotes = Quotes.of([], [reply])
    assert quotes.spans("Is there anything else I can help you with today?") == []
    assert quotes.scrub("Your PIN is 4417.") == "Your PIN is [forgotten]."


def test_keyword_queries_reach_every_span_or_say_they_cannot() -> None:
    queries = Quotes.of([TOLD]).keyword_queries()
    assert queries is not None and {"zebra-7391", "7391", "4417"} <= set(queries)
    russian = "\u042f \u0431\u044b\u043b \u0443 \u0432\u0440\u0430\u0447\u0430 " \
        "\u0432 \u043f\u0440\u043e\u0448\u043b\u044b\u0439 \u0432\u0442\u043e\u0440" \
        "\u043d\u0438\u043a \u0443\u0442\u0440\u043e\u043c"  # eight words, none a-z
    # Words in any script are indexed: one word of the run reaches it.
    assert Quotes.of([russian]).keyword_queries() == ["\u043f\u0440\u043e\u0448\u043b\u044b\u0439"]
    assert Quotes().keyword_queries() == [] and not Quotes()


def test_traces_are_ids_cleared_texts_and_quotes() -> None:
    traces = Traces(ids=frozenset({"3f9a0c"}), texts=frozenset({"Ana likes the gym a lot"}),
                    quotes=Quotes.of([TOLD]))
    assert traces.found_in('{"id": "3f9a0c"}')
    assert traces.found_in("Profile: Ana likes the gym a lot.")
    assert traces.found_in("code 4417")
    assert not traces.found_in("Noted.")
    assert not traces.found_in("lc_run--01a24ba9-4417-72d7-9c93-ce7e82d24885-0")


def test_a_text_holds_the_index_words_of_every_run_it_quotes() -> None:
    """The keyword query of a run finds every text that holds the run, whatever its script,
    accents or Unicode form (a decomposed accent, a ligature)."""
    texts = ["Siobh\u00e1n's sister Gr\u00e1inne moved to Gda\u0144sk with the twins",
             "Siobha\u0301n's sister Gra\u0301inne moved to Gdan\u0301sk with the twins",
             "\u042f \u0431\u044b\u043b \u0443 \u0432\u0440\u0430\u0447\u0430 \u0432 "
             "\u043f\u0440\u043e\u0448\u043b\u044b\u0439 "
             "\u0432\u0442\u043e\u0440\u043d\u0438\u043a",
             "the \ufb01nal half \u00bd marathon route through Th\u1ea3o's old neighbourhood"]
    for text in texts:
        quotes = Quotes.of([text])
        assert quotes.runs, text
        assert quotes.keyword_queries()
        indexed = set(tokenize(text))
        for run in quotes.runs:
            for word in run:
                assert set(tokenize(word)) <= indexed, (text, word)
