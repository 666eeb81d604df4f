"""Offline road-network drive times from OpenStreetMap (taxis and minibuses)."""
