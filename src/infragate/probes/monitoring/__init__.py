"""Monitoring checks: Prometheus's targets and rules, Alertmanager's receivers and routes, and alert
drills that prove an outage is noticed in time."""
