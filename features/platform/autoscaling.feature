@platform @kubernetes @load @destructive
Feature: Autoscaling under the declared load
  Under the declared load the autoscaler adds replicas within the declared time, the new replicas
  take part of the traffic, no request is lost while pods come and go, and the added replicas go
  again once the load has stopped.

  Scenario: The autoscaler scales out under load and back in after it
    When the declared load runs through the gateway while the replicas are watched
    Then the autoscaler added replicas within the declared time
    And the added replicas answered part of the traffic
    And no request of the load failed
    And the autoscaler removed the added replicas within the declared time after the load
