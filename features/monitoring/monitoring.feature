@monitoring
Feature: Monitoring sees what it is meant to see
  Prometheus scrapes every declared target and each exporter reaches what it watches; the declared
  alert rules are loaded, healthy and read metrics that exist; Alertmanager is ready, Prometheus
  sends to it and it routes each category to its receiver; no alert is, by its own settings,
  notified later than the design allows; and the requests clients send are the requests it counts.

  Background:
    Given the monitoring stack is read through its APIs

  Scenario: Every declared scrape target is up and watches what it should
    Then every declared scrape job has its targets up and scraped recently
    And every exporter reaches what it watches

  Scenario: Every declared alert rule is loaded and can fire
    Then every declared alert rule is loaded, healthy and labelled as declared
    And no alert rule reads a metric that no target exposes

  Scenario: Monitoring counts the requests clients sent
    When requests are sent through the gateway while their counter is watched
    Then the counter grew by the requests sent

  Scenario: Alerts reach their receivers in time
    Then Alertmanager is ready and Prometheus sends alerts to it
    And every declared route reaches its receiver
    And every declared alert can be notified within the declared time
