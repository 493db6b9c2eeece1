"""The pure fake: `Fake.process` and the wings it ties together.

Its folders are its map (docs/architecture.md): `vocabulary/` (what every wing speaks),
`headers/` and `body/` (the two sides of a request), `answering/` (what a call does and says),
`proxy/` (the proxy's checks), `storage/` (memory or SQLite), `online/` (SuperOffice Online
around the call); at the top only what ties them. Standard library, lxml, multidict and Pillow
only: never aiohttp, pytest, or the http, testing and tools layers (tests/architecture checks it).
"""

# The package's version: read by the build (pyproject's [tool.hatch.version]), --version and /_health.
VERSION = "0.2.0"
