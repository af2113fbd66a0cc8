"""The conformance suite (memory_graph.conformance) against every backend of
tests/conftest.py's ``store`` fixture: networkx, FalkorDB, and Neo4j with NEO4J_URI."""

from memory_graph.conformance import *  # noqa: F403
