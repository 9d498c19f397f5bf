"""Fault injection: failures in the middle of multi-step operations."""
