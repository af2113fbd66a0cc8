"""What every node starts from: ``NodeRun.start(provider, runtime)`` gives the context the
run works with (the serving policy's, ``agent_runtime.serving``), the resources it names
(opened on first use), a cost meter and the errors the node records; ``finish`` adds the
cost and errors to the node's update.

The nodes are plain functions of ``(state, runtime)`` as in the LangGraph templates, with
the agent's ``ResourceProvider`` bound as a keyword (``functools.partial`` in
``graphs.agent``): the provider holds what a Python caller passed to ``build_agent`` (a
chat model, a store) and what was opened for earlier runs, which a run's ``Context``
cannot carry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from langgraph.runtime import Runtime

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import ResourceProvider, Resources
from nodes.state import ErrorKind, State, TurnError


@dataclass
class NodeRun:
    provider: ResourceProvider
    ctx: Context
    meter: CostMeter = field(default_factory=CostMeter)
    errors: list[TurnError] = field(default_factory=list)

    @classmethod
    def start(cls, provider: ResourceProvider, runtime: Runtime[Context]) -> NodeRun:
        return cls(provider, provider.run_context(runtime))

    @cached_property
    def res(self) -> Resources:
        return self.provider.resolve(self.ctx)

    def error(self, kind: ErrorKind, message: str) -> None:
        self.errors.append({"kind": kind, "message": message})

    def errors_of(self, kind: ErrorKind, messages: Iterable[str]) -> None:
        """Record the messages of a step that reports them as text (memory work)."""
        self.errors += [{"kind": kind, "message": message} for message in messages]

    def finish(self, update: State) -> State:
        """The node's update with the cost it metered and the errors it recorded."""
        return {**update, "cost": self.meter.as_dict(), "errors": self.errors}
