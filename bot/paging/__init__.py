"""Paging on-call: events for PagerDuty's Events API v2 and one delivery attempt of each (bot.paging.pagerduty).

Retrying is not done here: an outbox keeps undelivered events and tries again after the suggested backoff.
"""
