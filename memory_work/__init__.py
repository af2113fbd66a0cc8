"""Memory work: what is done with a stored turn and a finished session (semantic memories,
reconciliation, entities, personality, consolidation), recorded durably in the store,
and how it is scheduled (in-process, or by the server's run queue)."""
