"""Request and response schemas, in families: Create, Update, Public and XsPublic(data, count)."""
