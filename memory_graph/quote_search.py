"""The user's remaining texts that quote what a forget removes, added to its plan.

Candidates come from the store's keyword search (``Quotes.keyword_queries``: every text
holding a span is among the hits, so each query is paged until the store has no more),
and each is checked exactly (``Quotes.spans``); texts no keyword index holds (session
summaries, the core profile, preference reasons, a failed turn's memory error) are read
directly. What is done with a quoting text:

- a turn (a later reply that repeated the secret, the user saying it again) and a photo's
  caption are the record of what was said: kept, with each quoted span replaced by
  ``[forgotten]`` and their embedding recomputed;
- a derived memory (a fact, a topic, a routine, a memory kept on request, an entity whose
  name quotes it) is removed, as those learned from a forgotten turn are;
- a derived text on a node that stays (an entity's or a session's summary, the core
  profile) is cleared, and a preference whose reason quotes it is dropped.
"""

from __future__ import annotations

from memory_graph.forgetting import KIND_OF_LABEL, ForgetPlan
from memory_graph.quotes import Quotes
from memory_graph.schema import (
    PREFERENCE_EDGES,
    SEARCHABLE_LABELS,
    Entity,
    Fact,
    Image,
    Node,
    NodeLabel,
    Session,
    Turn,
    User,
)
from memory_graph.store import GraphStore, Hit

#: Keyword hits asked for first; a full page is asked again four times larger.
FIRST_PAGE = 256


def remove_quotes(store: GraphStore, plan: ForgetPlan) -> None:
    """Add to ``plan`` what removes or scrubs the remaining texts that quote its
    forgotten texts (module docstring)."""
    quotes = plan.quotes
    if not quotes:
        return
    for node in _candidates(store, plan.user_id, quotes):
        current = plan.current(node)
        if current is not None:
            _handle(current, quotes, plan)
    user_id = plan.user_id
    failed = store.find_nodes(user_id, NodeLabel.TURN, where={"memory_work": "failed"})
    for node in [*store.find_nodes(user_id, NodeLabel.SESSION), *failed,
                 *store.get_nodes(user_id, [user_id], embeddings=False)]:
        current = plan.current(node)
        if current is not None:
            _handle(current, quotes, plan)
    for edge in store.edges(user_id, [user_id], list(PREFERENCE_EDGES), "out"):
        if edge.id not in plan.dropped_edges and (quotes.found_in(edge.reason)
                                                  or quotes.found_in(edge.fact)):
            plan.dropped_edges.add(edge.id)
            plan.report.counts["preferences"] += 1


def _candidates(store: GraphStore, user_id: str, quotes: Quotes) -> list[Node]:
    queries = quotes.keyword_queries()
    found: dict[str, Node] = {}
    for label in SEARCHABLE_LABELS:
        if queries is None:
            found.update((n.id, n) for n in store.find_nodes(user_id, label))
            continue
        for query in queries:
            found.update((h.node.id, h.node) for h in _every_hit(store, user_id, label, query))
    return list(found.values())


def _every_hit(store: GraphStore, user_id: str, label: NodeLabel, query: str) -> list[Hit]:
    k = FIRST_PAGE
    while True:
        hits = store.keyword_search(user_id, label, query, k)
        if len(hits) < k:
            return hits
        k *= 4


def _handle(node: Node, quotes: Quotes, plan: ForgetPlan) -> None:
    """Scrub, clear or remove one node, as the module docstring says, if it quotes."""
    if isinstance(node, Turn):
        scrubbed = {"text": quotes.scrub(node.text),
                    "image_captions": [quotes.scrub(c) for c in node.image_captions],
                    "memory_error": quotes.scrub(node.memory_error)}
        if any(scrubbed[key] != getattr(node, key) for key in scrubbed):
            kind = "scrubbed turns" if node.role == "user" else "scrubbed replies"
            plan.rewrite(node.model_copy(update={**scrubbed, "embedding": None}), kind)
    elif isinstance(node, Image):
        if quotes.found_in(node.caption):
            plan.rewrite(node.model_copy(update={"caption": quotes.scrub(node.caption),
                                                 "embedding": None}), "scrubbed captions")
    elif isinstance(node, Entity) and not any(map(quotes.found_in, [node.name, *node.aliases])):
        if quotes.found_in(node.summary):
            plan.rewrite(node.model_copy(update={"summary": "", "embedding": None}),
                         "entity summaries", cleared=node.summary)
    elif isinstance(node, Session):
        if quotes.found_in(node.summary):
            plan.rewrite(node.model_copy(update={"summary": ""}), "session summaries",
                         cleared=node.summary)
        elif quotes.found_in(node.consolidation_error):
            plan.rewrite(node.model_copy(update={
                "consolidation_error": quotes.scrub(node.consolidation_error)}),
                "scrubbed errors")
    elif isinstance(node, User):
        if quotes.found_in(node.profile):
            plan.rewrite(node.model_copy(update={"profile": ""}), "profile",
                         cleared=node.profile)
    elif node.label in KIND_OF_LABEL and (
            quotes.found_in(node.search_text())
            or (isinstance(node, Fact) and node.stored_as is not None
                and quotes.found_in(node.stored_as.value_json))):
        plan.remove(node)
