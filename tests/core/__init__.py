"""Tests of mockserver: core."""
