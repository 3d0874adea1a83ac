@platform @swarm @destructive @failover
Feature: A failed update is rolled back
  An update whose new tasks never become healthy is undone by the orchestrator, and the service is
  back at its declared replicas, all healthy, on its previous configuration.

  Scenario: An update that never becomes healthy is rolled back
    When an update whose tasks never become healthy is rolled out to the service
    Then the orchestrator rolls the update back
    And the service is back at its declared replicas, all healthy, on its previous configuration
