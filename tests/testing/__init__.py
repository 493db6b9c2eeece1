"""Tests of mockserver: testing."""
