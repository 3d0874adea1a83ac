@platform
Feature: Service replicas
  Every service runs the replicas its design declares, each healthy and each taking traffic.

  Scenario: Every declared replica is healthy
    When the replicas of every declared service are listed
    Then every service runs within its declared replica count
    And every replica reports healthy

  Scenario: Requests through the gateway reach every replica
    When a client sends a paced stream of requests to every service's route
    Then every replica of every service answered some of them
