@gateway
Feature: Gateway health
  The gateway answers its health check, so that load balancers and monitors can rely on it.

  Scenario: The gateway's health endpoint answers
    When a client asks the gateway for its health
    Then the gateway answers with the declared health status
