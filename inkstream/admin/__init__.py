"""The operator's half: users and roles, registration and invites, providers at runtime, the audit log."""
