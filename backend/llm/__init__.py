"""The LLM gateway: the official `openai` client against any OpenAI-compatible server, with our own
retries (tenacity), error mapping and timeouts."""
