"""Run-time plumbing of the agent: its configuration (``Context``), the resources a run
works with and who owns them, the serving policy, model calls with structured output,
cost accounting and the background worker."""
