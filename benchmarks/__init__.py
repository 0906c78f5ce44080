"""Benchmark scripts (run as modules or files) and the public data sets they load."""
