"""Numerical cores on plain arrays: harm curve, capacitated assignment, candidate ranking."""
