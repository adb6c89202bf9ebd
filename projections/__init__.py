"""Read models computed from goalpath's events: plans, progress, review queue, audit log."""
