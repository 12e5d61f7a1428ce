"""Remote AI providers: OpenAI-compatible and Gemini generators, resilient HTTP calls, the providers file."""
