@gateway @ratelimit
Feature: Gateway rate limiting
  A client above its quota is throttled at the declared rate and burst, and recovers once it calms
  down; other clients and other routes are not throttled by it.

  Scenario: Every route enforces its declared rate limit
    When one client overloads each rate-limited route in turn
    Then each route admits its declared rate
    And each route admits its declared burst
    And each route rejects the excess with the declared status
    And each route recovers once the overload stops

  Scenario: One client's overload does not throttle another client
    When one client overloads every rate-limited route while another client calls each calmly
    Then the overloading client is throttled
    And the other client is never throttled

  Scenario: One route's overload does not throttle another route
    When one client overloads each rate-limited route in turn while calling the others calmly
    Then the overloading client is throttled
    And the other route is never throttled
