"""Tests of mockserver: architecture."""
