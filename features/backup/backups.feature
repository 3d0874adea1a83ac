@backup
Feature: Database backups
  Backups are taken on schedule, kept as long as promised and no longer, are intact, and restore
  within the recovery time to exactly what was backed up. A backup nobody restored is a hope.

  Scenario: The newest backup is younger than the recovery point objective
    When the backups of the database are listed
    Then the newest backup is younger than the declared recovery point objective

  Scenario: Backups follow the schedule and the retention
    When the backups of the database are listed
    Then there is a backup for every scheduled period inside the retention window
    And no backup is kept beyond the retention

  Scenario: Every backup inside the retention window is intact
    When every backup inside the retention window is checked
    Then every backup is readable to its end, lists its contents and matches its checksum

  Scenario: The newest backup restores within the recovery time objective, as it was
    When the newest backup is restored into the scratch database
    Then the restore finishes within the declared recovery time objective
    And the restored data matches the record taken when the backup was made

  Scenario: The cache persists its data as declared
    When the cache's persistence settings are read
    Then the cache persists its data as declared
