"""Pure rules for the 体检 (health check): statistics on answers, with no Flask and no database."""
