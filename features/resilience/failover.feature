@platform @destructive @failover
Feature: Surviving the loss of a replica
  A replica that dies is replaced, clients barely notice, and the service is back at its declared
  size within the recovery time.

  Scenario: Losing a replica stays within the failover budget
    Given steady traffic through the gateway
    When one replica of the service is killed
    Then the killed replica is replaced by a new one
    And the share of failed requests stays within the failover budget
    And the service is back at its declared replicas within the recovery time
