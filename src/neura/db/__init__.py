"""PostgreSQL: models, sessions and migrations (``neura db upgrade``)."""
