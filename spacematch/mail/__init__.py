"""Mail without Flask: the outbox (rows written with their cause, claimed and marked by the
sender), what each mail says (plain data for the templates) and the due alerts."""
