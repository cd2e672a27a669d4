"""Mutation testing of the modules whose bugs lose traffic or safety (docs/mutation-testing.md)."""
