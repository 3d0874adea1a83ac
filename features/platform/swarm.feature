@platform @swarm
Feature: Swarm services are configured as declared
  What the orchestrator holds for each service matches the design: replicas, resources, restart
  policy, health checks, secrets as secrets, encrypted networks, and rollback of failed updates.

  Background:
    Given the declared configuration of every service is read from the swarm

  Scenario: Every service runs with its declared replicas, limits and reservations
    Then every service declares the replicas of the profile
    And every service has its declared resource limits and reservations

  Scenario: Failed tasks are restarted and health is checked
    Then every service restarts its failed tasks as declared
    And every service that declares a health check has one

  Scenario: Secrets reach the services as secrets, never as environment variables
    Then every declared secret is mounted as a Docker secret
    And no environment variable of a service carries a secret

  Scenario: The services' networks are encrypted
    Then every overlay network of a service that declares it is encrypted

  Scenario: Placement and update policies are as declared
    Then every service carries its declared placement constraints
    And every service rolls back a failed update as declared
