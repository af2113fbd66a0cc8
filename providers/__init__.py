"""Model providers: embeddings and rerankers (chat models come with the agent)."""
