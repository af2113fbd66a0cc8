"""Benchmarks: loaders, runners, metrics, reports and plots."""
