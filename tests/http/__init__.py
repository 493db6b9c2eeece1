"""Tests of mockserver: http."""
