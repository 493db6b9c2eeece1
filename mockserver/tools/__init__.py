"""The command line and what it runs: serve, check, openapi, verify."""
