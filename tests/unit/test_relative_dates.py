"""Relative time expressions resolved against the date a memory was said."""

from __future__ import annotations

from datetime import datetime

import pytest

from memory_graph.relative_dates import day_text, names_a_time, resolve_relative_dates

FRIDAY = datetime(2023, 1, 20, 14, 0)


@pytest.mark.parametrize(("text", "expected"), [
    ("I lost my job yesterday.", "I lost my job yesterday (19 January 2023)."),
    ("Last night was fun", "Last night (19 January 2023) was fun"),
    ("the day before yesterday", "the day before yesterday (18 January 2023)"),
    ("See you tomorrow", "See you tomorrow (21 January 2023)"),
    ("two days ago", "two days ago (18 January 2023)"),
    ("3 weeks ago", "3 weeks ago (the week of 30 December 2022)"),
    ("a month ago", "a month ago (December 2022)"),
    ("5 years ago", "5 years ago (2018)"),
    ("last Saturday", "last Saturday (14 January 2023)"),
    ("last friday", "last friday (13 January 2023)"),
    ("last weekend", "last weekend (the weekend of 14 January 2023)"),
    ("last week", "last week (the week before 20 January 2023)"),
    ("next week", "next week (the week after 20 January 2023)"),
    ("Last month", "Last month (December 2022)"),
    ("next month", "next month (February 2023)"),
    ("last year", "last year (2022)"),
    ("next year", "next year (2024)"),
    ("eleven days ago", "eleven days ago (9 January 2023)"),
    ("a couple of weeks ago", "a couple of weeks ago (the week of 6 January 2023)"),
    ("She had her jabs on Saturday and sulked.",
     "She had her jabs on Saturday (14 January 2023) and sulked."),
    ("We passed on Friday!", "We passed on Friday (13 January 2023)!"),
    ("I'll see her on Saturday.", "I'll see her on Saturday (21 January 2023)."),
    ("The party is on Sunday. I went on Monday.",
     "The party is on Sunday (22 January 2023). I went on Monday (16 January 2023)."),
])
def test_expression_is_followed_by_its_date(text: str, expected: str) -> None:
    assert resolve_relative_dates(text, FRIDAY) == expected


def test_text_without_relative_time_is_unchanged() -> None:
    for text in ("I love painting.", "yesterdays lastweek", "a few days ago", "on Saturdays",
                 "", "Met on 7 May 2023."):
        assert resolve_relative_dates(text, FRIDAY) == text


def test_every_expression_of_a_message_is_resolved_once() -> None:
    text = "Ran a race last Saturday, and yesterday I rested."
    assert resolve_relative_dates(text, FRIDAY) == (
        "Ran a race last Saturday (14 January 2023), and yesterday (19 January 2023) I "
        "rested.")


def test_months_roll_over_year_ends() -> None:
    assert resolve_relative_dates("next month", datetime(2022, 12, 31)) == \
        "next month (January 2023)"
    assert resolve_relative_dates("10 months ago", datetime(2023, 1, 5)) == \
        "10 months ago (March 2022)"
    assert day_text(datetime(2023, 5, 7)) == "7 May 2023"


@pytest.mark.parametrize(("text", "named"), [
    ("What did I do last weekend?", True), ("Where was I in March 2023?", True),
    ("What happened on Friday?", True), ("When did Caroline go to the support group?", False),
    ("What did Caroline research?", False), ("What did we do two weeks ago?", True),
])
def test_names_a_time_tells_a_named_time_from_a_question_for_one(text: str, named: bool
                                                                  ) -> None:
    assert names_a_time(text) is named


def test_the_future_words_of_one_clause_do_not_move_another_clauses_weekday() -> None:
    monday = datetime(2023, 11, 20)
    assert resolve_relative_dates("She is planning a trip for her son, who won the race on "
                                  "Saturday.", monday).endswith("on Saturday (18 November "
                                                                "2023).")
    assert resolve_relative_dates("I will see her on Friday, she is visiting.", monday) == \
        "I will see her on Friday (24 November 2023), she is visiting."


def test_days_later_count_from_the_date_named_before_them() -> None:
    sunday = datetime(2023, 6, 18)
    assert resolve_relative_dates("The interview was on Tuesday and the offer came two days "
                                  "later.", sunday) == (
        "The interview was on Tuesday (13 June 2023) and the offer came two days later "
        "(15 June 2023).")
    assert resolve_relative_dates("The offer came two days later.", sunday) == \
        "The offer came two days later."  # no date before it: left alone
