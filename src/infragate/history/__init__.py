"""Run history: each run's figures kept in a SQLite store (``figures`` reads them from a run's
record, ``store`` keeps and reads them back), and the trend of each figure over the runs with its
regressions flagged (``trend``: the judgement and the page)."""
