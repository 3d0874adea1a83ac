"""The monitoring judgements on snapshots made here (no Prometheus): which metrics a rule reads,
where Alertmanager routes an alert (compared with amtool's own answer), and each check's verdict."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
import requests
import yaml
from pydantic import ValidationError

from infragate.probes.monitoring import alert_routing, promql
from infragate.probes.monitoring import judgements as checks
from infragate.probes.monitoring.drill import DrillResult
from infragate.probes.monitoring.prometheus_api import Rule, Sample, Target
from infragate.probes.monitoring.receiver import serve
from infragate.profile.monitoring_promises import Monitoring
from infragate.verdicts import Outcome


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ('up{job="redis"} == 0', {"up"}),
        (
            'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / sum without (x) (rate(other[1m])) > 0.05',
            {"http_requests_total", "other"},
        ),
        ("histogram_quantile(0.95, sum by (le) (rate(latency_bucket[30s]))) > 0.2", {"latency_bucket"}),
        ('{__name__="by_name", job="x"} offset 5m and on(instance) bar unless baz', {"by_name", "bar", "baz"}),
        ('absent(up{job="api"}) or count(missing_but_absent_ok == 1) < 2e3', {"missing_but_absent_ok"}),
        ('rate(a[1m]) > bool 0x10 or label_replace(b, "dst", "$1", "src", "(.*)")', {"a", "b"}),
        ('c{path="rate(not_a_metric)"} * ignoring(le) group_left d', {"c", "d"}),
    ],
)
def test_the_metrics_an_expression_reads(expression: str, names: set[str]) -> None:
    assert promql.metric_names(expression) == names


@pytest.mark.parametrize("expression", ["sum(rate(x[1m])", 'x{a="b"', "x)"])
def test_an_unbalanced_expression_is_an_error(expression: str) -> None:
    with pytest.raises(ValueError, match="bracket"):
        promql.metric_names(expression)


ALERTMANAGER = {
    "route": {
        "receiver": "default",
        "group_wait": "5s",
        "routes": [
            {"matchers": ['category=~"api|database"'], "receiver": "oncall", "group_wait": "1s", "continue": True},
            {"match": {"severity": "critical"}, "receiver": "pager"},
            {
                "match_re": {"team": "db.*"},
                "routes": [{"matchers": ["severity!=info"], "receiver": "dba"}],
                "receiver": "db-default",
            },
        ],
    },
    "receivers": [{"name": name} for name in ("default", "oncall", "pager", "dba", "db-default")],
}
LABEL_SETS = [
    {"category": "api", "severity": "critical"},
    {"category": "api"},
    {"category": "system"},
    {"severity": "critical"},
    {"team": "dba", "severity": "warning"},
    {"team": "dba", "severity": "info"},
    {"team": "web"},
]


@pytest.mark.parametrize("labels", LABEL_SETS, ids=lambda labels: ",".join(f"{k}={v}" for k, v in labels.items()))
def test_routing_agrees_with_amtool(labels: dict[str, str], tmp_path: Path) -> None:
    amtool = shutil.which("amtool")
    assert amtool, "amtool comes with Debian's prometheus-alertmanager (scripts/setup.sh installs it)"
    config = tmp_path / "alertmanager.yml"
    config.write_text(yaml.safe_dump(ALERTMANAGER))
    told = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config}", *(f"{k}={v}" for k, v in labels.items())],
        capture_output=True,
        text=True,
        check=True,
    )
    theirs = told.stdout.strip().split(",")
    assert [delivery.receiver for delivery in alert_routing.deliveries(ALERTMANAGER, labels)] == theirs


def test_group_wait_is_inherited_and_overridden() -> None:
    waits = {d.receiver: d.group_wait_s for d in alert_routing.deliveries(ALERTMANAGER, LABEL_SETS[0])}
    assert waits == {"oncall": 1.0, "pager": 5.0}
    assert alert_routing.deliveries({"route": {"receiver": "x"}}, {})[0].group_wait_s == 30.0


MONITORING = Monitoring.model_validate(
    {
        "prometheus": "http://127.0.0.1:9090",
        "targets": {"api": {"min_up": 2}, "redis": {"reaches": "redis_up"}},
        "max_scrape_age": "15s",
        "rules": {"RedisDown": {"labels": {"category": "database"}}, "ApiDown": {"notify_within": "10s"}},
        "categories": ["database", "system"],
        "alertmanager": {
            "url": "http://127.0.0.1:9093",
            "receivers": ["oncall"],
            "routes": [{"labels": {"category": "database"}, "receiver": "oncall"}],
        },
        "notify_within": "15s",
        "drills": [{"alert": "RedisDown", "stop": "redis"}],
    }
)


def _rule(name: str, query: str = "redis_up == 0", kind: str = "alerting", **labels: str) -> Rule:
    return Rule(name, kind, query, 2.0, tuple(sorted(labels.items())), "ok", "", 1.0)


def test_targets_up_and_fresh_hold_and_each_lapse_is_named() -> None:
    up = [Target("api", f"a{i}", "up", 1.0, "") for i in range(2)] + [Target("redis", "r", "up", 2.0, "")]
    assert checks.targets_check(MONITORING, up).met
    found = checks.targets_check(
        MONITORING, [Target("api", "a0", "up", 40.0, ""), Target("api", "a1", "down", 1.0, "connection refused")]
    )
    text = " ".join(found.problems)
    assert "job api: expected at least 2 target(s) up, observed 1 (a1 down: connection refused)" in text
    assert "a0 last scraped 40 s ago, expected within 15 s" in text
    assert "job redis: Prometheus scrapes no target of it" in text


def test_an_exporter_up_but_not_reaching_what_it_watches_is_named() -> None:
    assert checks.reaches_check(MONITORING, {"redis": (Sample((("instance", "r"),), 1.0),)}).met
    assert (
        "is 0 on r, expected 1"
        in checks.reaches_check(MONITORING, {"redis": (Sample((("instance", "r"),), 0.0),)}).problems[0]
    )
    assert "exposes no redis_up" in checks.reaches_check(MONITORING, {}).problems[0]


def test_rules_missing_failing_mislabelled_and_uncovered_categories_are_named() -> None:
    good = [_rule("RedisDown", category="database"), _rule("ApiDown"), _rule("Cpu", category="system")]
    assert checks.rules_check(MONITORING, good).met
    broken = [
        Rule("RedisDown", "alerting", "x", 0, (("category", "api"),), "err", "bad expression", 1.0),
    ]
    text = " ".join(checks.rules_check(MONITORING, broken).problems)
    assert "alert RedisDown: evaluation fails: bad expression" in text
    assert "expected labels category=database, observed category=api" in text
    assert "alert ApiDown: no such alerting rule is loaded" in text
    assert "category system: no alerting rule carries category=system" in text


def test_a_rule_reading_a_metric_nothing_exposes_is_named() -> None:
    rules = [
        _rule("A", "sum(rate(app_requests_total[1m])) > 1 or ALERTS"),
        _rule("job:rate", "rate(x[1m])", kind="recording"),
        _rule("B", "job:rate > 1"),
    ]
    assert checks.rule_metrics_check(rules, frozenset({"app_requests_total", "x"})).met
    found = checks.rule_metrics_check(rules, frozenset({"x"}))
    assert found.problems == ("alerting rule A: reads app_requests_total, which no target exposes (it can never fire)",)


def test_alertmanager_readiness_receivers_and_connection() -> None:
    sent = ("http://127.0.0.1:9093/api/v2/alerts",)
    assert checks.alertmanager_check(MONITORING, True, "disabled", {"receivers": [{"name": "oncall"}]}, sent).met
    found = checks.alertmanager_check(MONITORING, False, "settling", {"receivers": [{"name": "x"}]}, ())
    assert len(found.problems) == 4


def test_prometheus_may_reach_alertmanager_by_another_address_when_declared() -> None:
    # Inside a Swarm task Prometheus sends to 127.0.0.1:9093; infragate reads the published port.
    inside = ("http://127.0.0.1:9093/api/v2/alerts",)
    assert MONITORING.alertmanager is not None
    published = MONITORING.alertmanager.model_copy(update={"url": "http://127.0.0.1:59621"})
    elsewhere = MONITORING.model_copy(update={"alertmanager": published})
    receivers = {"receivers": [{"name": "oncall"}]}
    found = checks.alertmanager_check(elsewhere, True, "disabled", receivers, inside)
    assert found.problems == (
        "Prometheus does not send to http://127.0.0.1:59621; it sends to http://127.0.0.1:9093/api/v2/alerts",
    )
    declared = published.model_copy(update={"sent_to": "http://127.0.0.1:9093"})
    seen_inside = MONITORING.model_copy(update={"alertmanager": declared})
    assert checks.alertmanager_check(seen_inside, True, "disabled", receivers, inside).met


def test_a_route_to_another_receiver_is_named() -> None:
    config = {"route": {"receiver": "oncall", "routes": [{"matchers": ['category="database"'], "receiver": "nobody"}]}}
    found = checks.routes_check(MONITORING, config)
    assert found.problems == ("alerts with category=database: expected to reach oncall, observed nobody",)
    assert checks.routes_check(MONITORING, {"route": {"receiver": "oncall"}}).met


def test_a_rule_whose_settings_notify_later_than_declared_is_named() -> None:
    prometheus = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{"job_name": "x"}],
    }
    alertmanager = {"route": {"receiver": "oncall", "group_wait": "1s"}}
    quick = [_rule("RedisDown"), _rule("ApiDown")]
    assert checks.timing_check(MONITORING, checks.timings(quick, prometheus, alertmanager)).met
    slow = [Rule("RedisDown", "alerting", "redis_up == 0", 60.0, (), "ok", "", 1.0), _rule("ApiDown")]
    found = checks.timing_check(MONITORING, checks.timings(slow, prometheus, alertmanager))
    assert found.problems == (
        "RedisDown: scrape 1 s + evaluation 1 s + for 60 s + group_wait 1 s = 63 s, expected at most 15 s",
    )


def test_drill_verdicts() -> None:
    timeline = (("fault", 0.0), ("pending", 1.0), ("firing", 3.0), ("delivered", 4.0), ("fault ended", 4.1))
    done = (*timeline, ("running again", 5.0), ("resolved", 6.0))
    assert DrillResult("RedisDown", "redis", 15.0, done, True).notified_check().met
    assert DrillResult("RedisDown", "redis", 15.0, done, True).resolved_check().met
    late = DrillResult("RedisDown", "redis", 3.5, done, True).notified_check()
    assert late.problems == (
        "expected RedisDown delivered within 3.5 s of stopping redis, observed delivered after 4.0 s",
    )
    # The clock for the resolve starts when the platform runs the component again, however long that took.
    slow_platform = (*timeline, ("running again", 19.0), ("resolved", 20.5))
    assert DrillResult("RedisDown", "redis", 15.0, slow_platform, True).resolved_check().met
    stuck = DrillResult("RedisDown", "redis", 15.0, (*timeline, ("running again", 5.0), ("resolved", 21.0)), True)
    assert stuck.resolved_check().problems == (
        "expected RedisDown resolved within 15 s of redis starting again, observed resolved after 16.0 s",
    )
    silent = DrillResult("RedisDown", "redis", 15.0, (("fault", 0.0), ("fault ended", 15.5)), True)
    assert not silent.notified_check().met
    assert silent.resolved_check().outcome is Outcome.NOT_JUDGED
    elsewhere = DrillResult("RedisDown", "redis", 15.0, (*timeline[:3], ("sent elsewhere", 3.3)), True)
    assert (
        "not delivered (fault at 0.0 s, pending at 1.0 s, firing at 3.0 s, sent elsewhere at 3.3 s)"
        in (elsewhere.notified_check().problems[0])
    )


def test_drills_must_name_declared_alerts_and_a_time() -> None:
    base = {"prometheus": "http://127.0.0.1:9090", "rules": {"A": {}}}
    with pytest.raises(ValidationError, match="drills name alerts the rules section does not declare: B"):
        Monitoring.model_validate({**base, "notify_within": "5s", "drills": [{"alert": "B", "stop": "x"}]})
    with pytest.raises(ValidationError, match="drills need notify_within"):
        Monitoring.model_validate({**base, "drills": [{"alert": "A", "stop": "x"}]})


def test_the_webhook_receiver_keeps_what_it_was_sent() -> None:
    server = serve("127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        payload = {
            "receiver": "oncall",
            "status": "firing",
            "alerts": [{"status": "firing", "labels": {"alertname": "X"}}],
        }
        assert requests.post(f"{base}/notify", json=payload, timeout=5).status_code == 200
        assert requests.post(f"{base}/notify", data=b"[1]", timeout=5).status_code == 400
        big = json.dumps({"x": "y" * (1 << 20)})
        assert requests.post(f"{base}/notify", data=big, timeout=5).status_code == 413
        (kept,) = requests.get(f"{base}/notifications", timeout=5).json()
        assert (kept["receiver"], kept["status"], kept["alerts"]) == (
            "oncall",
            "firing",
            [{"alertname": "X", "status": "firing"}],
        )
    finally:
        server.shutdown()
        server.server_close()


def test_a_count_within_tolerance_and_background_agrees_and_a_third_missing_does_not() -> None:
    from infragate.probes.monitoring.counting import CountResult

    assert CountResult("m", "api", 200, 203.0, 0.0, 0.05).agrees_check().met
    assert CountResult("m", "api", 200, 230.0, 25.0, 0.05).agrees_check().met  # others' traffic on top
    short = CountResult("m", "api", 200, 134.0, 0.0, 0.05).agrees_check()
    assert short.problems == (
        "expected m of job api counts the 200 requests sent, 190 to 210, "
        "observed counted 134 (and 0 in an equally long quiet window)",
    )
