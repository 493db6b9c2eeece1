"""The pure fake: contracts, decoding, binding, auth, state, journal and `Fake.process`.

Standard library, lxml and multidict only: never aiohttp, pytest, or the http, testing and
tools layers (tests/architecture checks it).
"""
