output "lake_url" {
  description = "GOVREPORTS_LAKE for the DAGs and the CLI"
  value       = local.lake
}

output "athena_tables" {
  description = "Athena tables over the lake (database.table)"
  value       = [for name, _ in local.tables : "${var.glue_database}.${name}"]
}
