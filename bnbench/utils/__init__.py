"""Small shared helpers (atomic I/O, seeding, environment capture)."""
