"""Tests of mockserver: benchmarks."""
