"""Access: users and roles, the per-user session every interface goes through, and the tamper-evident audit log."""
