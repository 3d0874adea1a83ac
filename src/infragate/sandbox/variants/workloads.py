"""Known-bad variants of the Kubernetes reference cluster's workload: one defect of its declared
configuration each (autoscaler, resources, probes, rollout, disruption budget, placement, user,
secrets, the backup's schedule)."""

from __future__ import annotations

from infragate.sandbox.variants.scenarios import (
    AUTOSCALE,
    K8S_JOBS,
    K8S_PROBES,
    K8S_ROLLOUT,
    K8S_SCALING,
    K8S_SECURITY,
    ROLLING,
    SERVICE_USERS,
)
from infragate.sandbox.variants.variant import ExpectedFailure, Variant, kubernetes_variant

AUTOSCALER_STEP = "Then every service is scaled by an autoscaler within its declared bounds"
RESOURCES_STEP = "And every container requests and is limited to its declared resources"
PROBES_STEP = "Then every container has distinct liveness and readiness probes that start in time"
ROLLOUT_STEP = "Then a rolling update takes no more replicas away than declared"
LOST_STEP = "And no request fails"
COMPLETED_STEP = "And the latest rollout of every service has completed"
BUDGET_STEP = "And a disruption budget keeps the declared replicas"
PLACEMENT_STEP = "And pods keep away from each other as declared"
ROOT_STEP = "Then every container runs as a non-root user, none privileged"
SECRETS_STEP = "And secrets reach the pods as Secrets, never as literal values"
USERS_STEP = "Then every declared service runs only as its declared users"

VARIANTS: tuple[Variant, ...] = (
    kubernetes_variant(
        "k8s-no-autoscaler",
        "the API's replica count is fixed: no HorizontalPodAutoscaler",
        (
            ExpectedFailure(K8S_SCALING, AUTOSCALER_STEP),
            ExpectedFailure(AUTOSCALE, "Then the autoscaler added replicas within the declared time"),
        ),
        autoscaler=False,
    ),
    kubernetes_variant(
        "k8s-autoscaler-max-5",
        "the autoscaler stops at 5 replicas where 10 are declared",
        (ExpectedFailure(K8S_SCALING, AUTOSCALER_STEP),),
        hpa_max=5,
    ),
    kubernetes_variant(
        "k8s-no-limits",
        "the API's containers have requests but no limits",
        (ExpectedFailure(K8S_SCALING, RESOURCES_STEP),),
        limits=False,
    ),
    kubernetes_variant(
        "k8s-no-readiness-probe",
        "the API's containers have a liveness probe and no readiness probe: a new pod takes traffic before it listens",
        (ExpectedFailure(K8S_PROBES, PROBES_STEP), ExpectedFailure(ROLLING, LOST_STEP)),
        readiness_probe=False,
    ),
    kubernetes_variant(
        "k8s-all-unavailable",
        "a rolling update may take every replica away at once (maxUnavailable 100%)",
        (ExpectedFailure(K8S_ROLLOUT, ROLLOUT_STEP), ExpectedFailure(ROLLING, LOST_STEP)),
        max_unavailable="100%",
    ),
    kubernetes_variant(
        "k8s-update-stalled",
        "an update to an image that cannot start was left half-rolled: one new pod stuck beside the old ones",
        (ExpectedFailure(K8S_ROLLOUT, COMPLETED_STEP),),
        broken_update=True,
        progress_deadline_s=10,
    ),
    kubernetes_variant(
        "k8s-no-disruption-budget",
        "no PodDisruptionBudget: a node drain may evict every replica",
        (ExpectedFailure(K8S_ROLLOUT, BUDGET_STEP),),
        disruption_budget=False,
    ),
    kubernetes_variant(
        "k8s-no-anti-affinity",
        "the API's pods do not keep away from each other",
        (ExpectedFailure(K8S_ROLLOUT, PLACEMENT_STEP),),
        anti_affinity=False,
    ),
    kubernetes_variant(
        "k8s-root",
        "the API's containers run as root",
        (ExpectedFailure(K8S_SECURITY, ROOT_STEP), ExpectedFailure(SERVICE_USERS, USERS_STEP)),
        run_as_user=0,
    ),
    kubernetes_variant(
        "k8s-secret-in-env",
        "the database password is a literal value of an environment variable",
        (ExpectedFailure(K8S_SECURITY, SECRETS_STEP),),
        secret_as_env_value=True,
    ),
    kubernetes_variant(
        "k8s-backup-weekly",
        "the backup CronJob runs weekly where a daily backup is declared",
        (ExpectedFailure(K8S_JOBS, "Then every declared scheduled job runs as often as declared"),),
        backup_schedule="0 2 * * 0",
    ),
)
