"""The seed systems' profiles in targets/ stay valid, and carry the requirements their summaries state."""

from __future__ import annotations

from pathlib import Path

import pytest

from infragate.profile import load_profile

TARGETS = Path(__file__).resolve().parents[2] / "targets"


@pytest.mark.parametrize("name", ["marketplace.yaml", "bookmark-sync.yaml"])
def test_seed_profiles_load(name: str) -> None:
    assert load_profile(TARGETS / name).safety.environment == "staging"


def test_marketplace_declares_its_three_limits() -> None:
    routes = load_profile(TARGETS / "marketplace.yaml").gateway.routes
    declared = {name: route.rate_limit.rate.per_second for name, route in routes.items() if route.rate_limit}
    assert declared == {"api": 100, "auth": 10, "search": 50}


def test_bookmark_sync_declares_a_per_minute_token_bucket() -> None:
    limit = load_profile(TARGETS / "bookmark-sync.yaml").gateway.routes["api"].rate_limit
    assert limit is not None
    assert (str(limit.rate), limit.algorithm) == ("1000r/m", "token-bucket")


def test_marketplace_holds_its_rpo_of_15_minutes_to_wal_archiving_and_its_rto_to_a_drill() -> None:
    backups = load_profile(TARGETS / "marketplace.yaml").backups
    assert backups is not None and backups.wal_archive is not None
    assert backups.wal_archive.rpo == 15 * 60
    assert [(config.rto, config.retention) for config in backups.postgres] == [(3600, 30 * 86400)]


def test_marketplace_holds_its_deployment_to_the_kubernetes_promises_of_the_seed() -> None:
    profile = load_profile(TARGETS / "marketplace.yaml")
    assert profile.platform.kind == "kubernetes"
    promised = profile.services["backend"].kubernetes
    assert promised is not None and promised.autoscaling is not None
    assert (promised.autoscaling.min, promised.autoscaling.max) == (3, 10)
    assert promised.probes and promised.max_unavailable == 0 and promised.non_root
    assert promised.anti_affinity == "preferred"


def test_the_seeds_hold_their_containers_to_run_without_root() -> None:
    for name, service in (("marketplace.yaml", "backend"), ("bookmark-sync.yaml", "api")):
        host = load_profile(TARGETS / name).hosts[service]
        assert host.service == service and host.spec is None
        assert {part: declared.users for part, declared in host.processes.items()} == {service: []}


def test_the_seeds_hold_their_monitoring_to_what_their_summaries_name() -> None:
    market = load_profile(TARGETS / "marketplace.yaml").monitoring
    assert market is not None and market.alertmanager is not None
    assert set(market.targets) == {"backend", "nginx", "postgres", "redis", "mongodb", "elasticsearch", "node"}
    assert market.categories == ["api", "database", "system", "business"]
    bookmarks = load_profile(TARGETS / "bookmark-sync.yaml").monitoring
    assert bookmarks is not None and bookmarks.targets["api"].min_up == 5
