"""Benchmarks for the fake, side by side with a bare aiohttp handler: ``python -m benchmarks``."""
