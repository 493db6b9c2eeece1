"""Tests of mockserver: docs."""
