@load
Feature: Service level objectives under the declared load
  The declared load is offered through the gateway in an open model: every request starts at its
  planned time whatever the deployment does, and latency counts from that planned time. A load
  generator that could not keep its schedule makes the run "could not verify", never a verdict.

  Background:
    Given the declared load has been offered through the gateway

  Scenario: Latency stays within the declared percentiles under the declared load
    Then the p95 latency is below the declared bound
    And the p99 latency is below the declared bound

  Scenario: The deployment sustains the declared throughput
    Then the throughput is at least the declared rate

  Scenario: Errors under load stay within the declared error rate
    Then the error rate is below the declared bound

  Scenario: Clients within their limits are not throttled under load
    Then the share of throttled requests stays within the declared bound
