"""Tests of mockserver: tools."""
