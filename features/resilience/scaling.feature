@platform @destructive @scaling
Feature: Scaling and rolling restarts
  The service grows and shrinks on demand and restarts replica by replica, and no client request
  is lost on the way.

  Scenario: Scaling out makes the new replicas ready and gives them traffic
    When the service is scaled out
    Then the new replicas are ready within the scaling time
    And a paced stream of requests through the gateway reaches every replica

  Scenario: Scaling back in loses no request
    Given the service runs scaled out
    And steady traffic through the gateway
    When the service is scaled back to its declared replicas
    Then no request fails

  Scenario: A rolling restart loses no request
    Given steady traffic through the gateway
    When every replica of the service is restarted one after another
    Then every replica was replaced
    And no request fails
