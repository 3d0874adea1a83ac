@platform @kubernetes
Feature: Kubernetes workloads are configured as declared
  What the cluster holds for each service matches the design: an autoscaler with its bounds,
  requests and limits, health probes, rollouts that complete and disruptions that keep replicas serving,
  pods spread apart, non-root containers, secrets kept as secrets and scheduled jobs (a backup)
  that run as often as declared.

  Background:
    Given the declared configuration of every service is read from the cluster

  Scenario: Every service autoscales within its bounds and asks for its declared resources
    Then every service is scaled by an autoscaler within its declared bounds
    And every container requests and is limited to its declared resources

  Scenario: Every container is checked for liveness and readiness apart
    Then every container has distinct liveness and readiness probes that start in time

  Scenario: Rollouts and disruptions keep replicas serving
    Then a rolling update takes no more replicas away than declared
    And the latest rollout of every service has completed
    And a disruption budget keeps the declared replicas
    And pods keep away from each other as declared

  Scenario: Containers run without root and secrets stay secrets
    Then every container runs as a non-root user, none privileged
    And secrets reach the pods as Secrets, never as literal values

  Scenario: Scheduled jobs run as often as declared
    Then every declared scheduled job runs as often as declared
