"""Known-bad variants of the reference deployment's monitoring: an exporter down or watching the
wrong port, a replica never scraped, a rule missing or reading a metric that does not exist, alerts
routed to nobody, and an outage alert that waits too long to fire."""

from __future__ import annotations

from infragate.sandbox.variants.scenarios import ALERT_DRILL, ALERTS_ROUTED, COUNTED, RULES, SCRAPED
from infragate.sandbox.variants.variant import ExpectedFailure, LocalDefect, Variant, replace_fields

NGINX = ("nginx",)  # the monitoring runs with the nginx gateway, whose exporter it has
TIMING = "And every declared alert can be notified within the declared time"
NOTIFIED = "Then every drilled alert reached its receiver within the declared time"
UNREADABLE = "And no alert rule reads a metric that no target exposes"

VARIANTS: tuple[Variant, ...] = (
    Variant(
        name="monitoring-exporter-down",
        summary="the Redis exporter is declared but not running (so nothing can say Redis is down)",
        breaks=(
            ExpectedFailure(SCRAPED, "Then every declared scrape job has its targets up and scraped recently"),
            ExpectedFailure(RULES, UNREADABLE),
        ),
        defect=LocalDefect(replace_fields(stopped_programs=frozenset({"redis-exporter"}))),
        gateways=NGINX,
    ),
    Variant(
        name="monitoring-exporter-misdirected",
        summary="the Redis exporter is up but watches a port where no Redis listens",
        breaks=(ExpectedFailure(SCRAPED, "And every exporter reaches what it watches"),),
        defect=LocalDefect(replace_fields(exporter_misdirected=True)),
        gateways=NGINX,
    ),
    Variant(
        name="monitoring-replica-unscraped",
        summary="Prometheus's relabelling drops API replica api-3: a third of the API's traffic is never counted",
        breaks=(
            ExpectedFailure(SCRAPED, "Then every declared scrape job has its targets up and scraped recently"),
            ExpectedFailure(COUNTED, "Then the counter grew by the requests sent"),
        ),
        defect=LocalDefect(replace_fields(unscraped_replicas=frozenset({"api-3"}))),
        gateways=NGINX,
    ),
    Variant(
        name="monitoring-rule-missing",
        summary="the slow-query alert the design promises is not among the loaded rules",
        breaks=(ExpectedFailure(RULES, "Then every declared alert rule is loaded, healthy and labelled as declared"),),
        defect=LocalDefect(replace_fields(missing_alerts=frozenset({"PostgresSlowQueries"}))),
        gateways=NGINX,
    ),
    Variant(
        name="monitoring-rule-typo",
        summary="the API error-rate alert reads app_http_request_total, a metric nothing exposes",
        breaks=(ExpectedFailure(RULES, UNREADABLE),),
        defect=LocalDefect(replace_fields(api_metric_name="app_http_request_total")),
        gateways=NGINX,
    ),
    Variant(
        name="monitoring-alerts-unrouted",
        summary="Alertmanager routes the API and database alerts to a receiver that notifies nobody",
        breaks=(
            ExpectedFailure(ALERTS_ROUTED, "And every declared route reaches its receiver"),
            ExpectedFailure(ALERT_DRILL, NOTIFIED),
        ),
        defect=LocalDefect(replace_fields(alerts_unrouted=True)),
        gateways=NGINX,
    ),
    Variant(
        name="monitoring-slow-alert",
        summary="the outage alerts wait 60 s (for: 60s) before firing; 15 s to notification declared",
        breaks=(ExpectedFailure(ALERTS_ROUTED, TIMING), ExpectedFailure(ALERT_DRILL, NOTIFIED)),
        defect=LocalDefect(replace_fields(alert_down_for_s=60)),
        gateways=NGINX,
    ),
)
