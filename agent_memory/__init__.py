"""The memory graph for any LangGraph agent: ``MemoryGraphStore`` (the memory graph as a
LangGraph ``BaseStore``, with ``from_location`` loading the bundled models) and the memory
tools a tool-calling agent binds. Above ``providers`` (it loads models), below the agent."""
