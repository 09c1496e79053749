"""Reading and cleaning the raw ledgers (台账) into canonical tables."""
