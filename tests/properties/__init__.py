"""Tests of mockserver: properties."""
