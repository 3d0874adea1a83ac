@backup
Feature: Continuous WAL archiving
  Between base backups, the WAL archive is the backup: it alone can hold a recovery point of
  minutes. Archiving must be on, close a segment within the recovery point objective even when
  the database is quiet, keep up without failing, and keep what it reports as kept.

  Scenario: WAL archiving is set up to hold the recovery point objective
    When the primary's WAL archiving is read
    Then WAL archiving is on and has somewhere to send the WAL
    And a WAL segment is closed for archiving within the recovery point objective

  Scenario: Archived WAL reaches the repository without failing or falling behind
    When the primary's WAL archiving is read
    Then the archiver's last attempt succeeded
    And no change waits for the archive longer than the recovery point objective
    And the repository holds the newest WAL the primary reports archived
