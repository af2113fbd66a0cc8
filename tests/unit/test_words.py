"""Words in any script: keyword search and entity names take letters beyond a-z."""

from __future__ import annotations

from memory_graph.text import tokenize
from memory_work.entity_names import junk_reason


def test_a_name_is_one_word_with_or_without_its_accents() -> None:
    assert tokenize("Siobhán") == tokenize("Siobhan") == ["siobhan"]
    assert tokenize("My sister Gráinne lives in Gdańsk") == tokenize(
        "my sister Grainne lives in Gdansk")
    assert tokenize("Thảo") == ["thao"]


def test_text_in_other_scripts_is_indexed() -> None:
    """A message in Russian or Japanese had no word at all: keyword search never found it.
    Japanese, written without spaces, is one word per run of characters; the voicing marks
    of kana are kept (they change the word)."""
    assert tokenize("Я был у врача") == ["я", "был", "у", "врача"]  # noqa: RUF001
    assert tokenize("東京 に 住んでいます") == ["東京", "に", "住んでいます"]
    assert tokenize("が") != tokenize("か")


def test_a_name_in_another_script_is_an_entity() -> None:
    assert junk_reason("東京", "place", "東京に住んでいます") == ""
    assert junk_reason("Zoë", "person", "My friend Zoë came over.") == ""
