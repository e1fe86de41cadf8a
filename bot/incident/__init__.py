"""Incidents as people run them: typed requests, the flows, and the view interface they talk through."""
