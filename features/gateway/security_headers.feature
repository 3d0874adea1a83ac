@gateway
Feature: Security headers
  Every answer of the gateway carries the declared security headers and says nothing about the
  software behind it.

  Scenario: Responses carry the declared security headers
    When a client calls every declared route
    Then every response carries the declared security headers

  Scenario: The gateway does not disclose its software version
    When a client calls every declared route and a path that does not exist
    Then no response discloses a software version
