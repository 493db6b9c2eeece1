"""Serving a fake from tests: `FakeServer`, `ThreadedFakeServer` and the pytest plugin."""
