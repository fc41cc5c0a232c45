"""Read models that follow the notification log, and the anomaly rules (issues 3 and 4)."""
