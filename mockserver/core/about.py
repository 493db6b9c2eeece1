"""The package's version: read by the build (pyproject's [tool.hatch.version]) and shown by --version and /_health."""

VERSION = "0.2.0"
