"""What a deployment's monitoring must do (a profile's `monitoring` section): the scrape targets that
must be up, the alert rules that must exist, where Alertmanager must send them, and the drills that
prove an outage is noticed in time."""

from __future__ import annotations

from pydantic import Field, model_validator

from infragate.profile.fields import Duration, Share, StrictModel, Url


class ScrapeTarget(StrictModel):
    """A scrape job that must be up, and what its exporter must reach."""

    min_up: int = Field(default=1, ge=1, description="at least this many of the job's targets are up")
    reaches: str | None = Field(
        default=None,
        description="the exporter's own gauge that is 1 when it reaches what it watches (pg_up, redis_up, "
        "nginx_up): the job may be up while the thing it should watch is not covered",
    )


class AlertRule(StrictModel):
    """An alerting rule that must be loaded, healthy, and labelled."""

    labels: dict[str, str] = Field(default_factory=dict, description="labels the rule must carry, e.g. category: api")
    notify_within: Duration | None = Field(
        default=None,
        description="its settings (scrape and evaluation intervals, for:, group_wait) allow a notification this soon "
        "after its fault (a drilled alert: monitoring.notify_within)",
    )


class Route(StrictModel):
    """Alerts with these labels must reach this receiver."""

    labels: dict[str, str] = Field(min_length=1, description="the labels of an alert, e.g. category: api")
    receiver: str = Field(min_length=1, description="the receiver Alertmanager must send them to")


class Alertmanager(StrictModel):
    """The Alertmanager that Prometheus sends to."""

    url: Url = Field(description="its base URL, e.g. http://alertmanager:9093")
    sent_to: Url | None = Field(
        default=None,
        description="the base URL Prometheus sends alerts to, when it reaches this Alertmanager by another address "
        "than infragate does (a name or port inside the deployment's own network); default: url",
    )
    receivers: list[str] = Field(default_factory=list, description="receivers its configuration must define")
    routes: list[Route] = Field(default_factory=list, description="where alerts with given labels must go")


class Drill(StrictModel):
    """A fault injected on purpose, and the alert that must notice it in time."""

    alert: str = Field(min_length=1, description="the alert rule that must fire")
    stop: str = Field(
        min_length=1,
        description="the component the platform stops for the drill and starts again after it (a database, "
        "an exporter: a supervisor program, a Swarm service, a Kubernetes Deployment)",
    )
    receiver: str | None = Field(default=None, description="the receiver the notification must reach")
    notifications: Url | None = Field(
        default=None,
        description="where the receiver's record of notifications can be read (infragate's webhook receiver, "
        "`infragate monitoring receiver`); without it, delivery is not judged",
    )


class Counted(StrictModel):
    """Requests through a gateway route must show in a counter Prometheus scrapes: monitoring sees reality."""

    route: str = Field(description="the gateway route (gateway.routes) the requests are sent to")
    metric: str = Field(description="the counter of requests served, e.g. nginx_http_requests_total")
    job: str = Field(description="the scrape job whose series of it are summed")
    requests: int = Field(default=200, ge=10, le=10_000, description="requests sent (safety.max_requests caps it)")
    rate: float = Field(
        default=50.0, gt=0, description="requests per second (safety.max_rate and half the route's limit cap it)"
    )
    tolerance: Share = Field(default=0.05, description="how far the count may be from what was sent")


class Monitoring(StrictModel):
    """Prometheus, its rules and Alertmanager, as the design promised them."""

    prometheus: Url = Field(description="Prometheus's base URL, e.g. http://prometheus:9090")
    bearer_token: str | None = Field(
        default=None, description="a token for Prometheus and Alertmanager (from a secret: ${file:...})"
    )
    targets: dict[str, ScrapeTarget] = Field(
        default_factory=dict, description="scrape job name -> what must hold of it"
    )
    max_scrape_age: Duration = Field(default=60.0, description="every declared target was scraped this recently")
    rules: dict[str, AlertRule] = Field(default_factory=dict, description="alert name -> the rule that must exist")
    categories: list[str] = Field(
        default_factory=list, description="values of the `category` label that at least one alert rule must carry"
    )
    alertmanager: Alertmanager | None = Field(default=None, description="where alerts go")
    notify_within: Duration | None = Field(
        default=None, description="the longest time from a fault to its notification, for every drilled alert"
    )
    drills: list[Drill] = Field(default_factory=list, description="alert drills (destructive)")
    counts: Counted | None = Field(default=None, description="a counter that must count the requests sent")

    @model_validator(mode="after")
    def _drilled_rules_are_declared(self) -> Monitoring:
        unknown = sorted({drill.alert for drill in self.drills} - set(self.rules))
        if unknown:
            raise ValueError(f"drills name alerts the rules section does not declare: {', '.join(unknown)}")
        if self.drills and self.notify_within is None:
            raise ValueError("drills need notify_within, the longest time from fault to notification")
        return self
