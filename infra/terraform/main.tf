# The lake's bucket (versioned, encrypted, never public, with lifecycle rules) and the Athena
# tables over it (Glue catalog, partition projection: no crawler, no MSCK REPAIR).

locals {
  lake = "s3://${var.bucket_name}/${var.prefix}"

  # GB/T 2260 province codes, and Hive's null partition (unknown province or year).
  provinces = [
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000", "310000",
    "320000", "330000", "340000", "350000", "360000", "370000", "410000", "420000", "430000",
    "440000", "450000", "460000", "500000", "510000", "520000", "530000", "540000", "610000",
    "620000", "630000", "640000", "650000", "710000", "810000", "820000",
    "__HIVE_DEFAULT_PARTITION__",
  ]
  years = concat([for y in range(2007, var.last_report_year + 1) : tostring(y)],
  ["__HIVE_DEFAULT_PARTITION__"])

  # The columns of docs/lake.md (pipelines/schema.py); tests/test_infra.py keeps them equal.
  tables = {
    reports = [
      { name = "doc_id", type = "string" },
      { name = "url", type = "string" },
      { name = "title", type = "string" },
      { name = "index_no", type = "string" },
      { name = "issuing_agency", type = "string" },
      { name = "category", type = "string" },
      { name = "doc_no", type = "string" },
      { name = "written_date", type = "date" },
      { name = "published_date", type = "date" },
      { name = "report_year", type = "int" },
      { name = "report_year_evidence", type = "string" },
      { name = "document_kind", type = "string" },
      { name = "document_kind_evidence", type = "string" },
      { name = "province_code", type = "string" },
      { name = "province_name", type = "string" },
      { name = "city_code", type = "string" },
      { name = "county_code", type = "string" },
      { name = "region_evidence", type = "string" },
      { name = "report_key", type = "string" },
      { name = "metadata_raw", type = "map<string,string>" },
      { name = "text", type = "string" },
      { name = "encoding_declared", type = "string" },
      { name = "encoding_detected", type = "string" },
      { name = "repairs", type = "array<string>" },
      { name = "unrecoverable_chars", type = "int" },
      { name = "attachments", type = "array<struct<url:string,filename:string,media_type:string,sha256:string,text:string>>" },
      { name = "linked_files", type = "array<string>" },
      { name = "template", type = "string" },
      { name = "stats_consistent", type = "boolean" },
      { name = "stats_failed_checks", type = "array<string>" },
      { name = "stats_cells", type = "int" },
      { name = "content_sha256", type = "string" },
      { name = "portal_id", type = "string" },
      { name = "fetched_at", type = "timestamp" },
      { name = "schema_version", type = "int" },
      { name = "processing_version", type = "int" },
      { name = "input_fingerprint", type = "string" },
      { name = "content_digest", type = "string" },
      { name = "version", type = "int" },
      { name = "first_seen", type = "timestamp" },
      { name = "last_seen", type = "timestamp" },
      { name = "ocr_engine", type = "string" },
      { name = "ocr_engine_version", type = "string" },
      { name = "ocr_pages", type = "int" },
      { name = "ocr_confidence", type = "float" },
      { name = "ocr_low_confidence_pages", type = "array<int>" },
    ]
    report_stats = [
      { name = "doc_id", type = "string" },
      { name = "table", type = "string" },
      { name = "row_key", type = "string" },
      { name = "row_label", type = "string" },
      { name = "column_key", type = "string" },
      { name = "value", type = "decimal(20,4)" },
      { name = "raw", type = "string" },
      { name = "unit", type = "string" },
      { name = "schema_version", type = "int" },
    ]
    report_versions = [
      { name = "doc_id", type = "string" },
      { name = "version", type = "int" },
      { name = "url", type = "string" },
      { name = "content_sha256", type = "string" },
      { name = "attachments_sha256", type = "array<string>" },
      { name = "content_digest", type = "string" },
      { name = "fetched_at", type = "timestamp" },
      { name = "last_seen", type = "timestamp" },
      { name = "title", type = "string" },
      { name = "report_year", type = "int" },
      { name = "issuing_agency", type = "string" },
      { name = "province_code", type = "string" },
      { name = "template", type = "string" },
      { name = "text_chars", type = "int" },
      { name = "stats_cells", type = "int" },
      { name = "stats_consistent", type = "boolean" },
      { name = "previous_sha256", type = "string" },
      { name = "previous_fetched_at", type = "timestamp" },
      { name = "chars_added", type = "int" },
      { name = "chars_removed", type = "int" },
      { name = "sections_changed", type = "array<string>" },
      { name = "cells_changed", type = "array<struct<cell:string,old:decimal(20,4),new:decimal(20,4)>>" },
      { name = "year_changed", type = "boolean" },
      { name = "agency_changed", type = "boolean" },
      { name = "template_changed", type = "boolean" },
      { name = "schema_version", type = "int" },
    ]
  }
}

resource "aws_s3_bucket" "lake" {
  bucket = var.bucket_name
}

resource "aws_s3_bucket_ownership_controls" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "lake" {
  bucket                  = aws_s3_bucket.lake.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Every partition rewrite and every raw sidecar update keeps the previous version.
resource "aws_s3_bucket_versioning" "lake" {
  bucket = aws_s3_bucket.lake.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "lake" {
  bucket = aws_s3_bucket.lake.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = var.kms_key_arn != null
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket     = aws_s3_bucket.lake.id
  depends_on = [aws_s3_bucket_versioning.lake]

  # Raw bytes are kept for ever (nothing is lost); they are rarely read after processing.
  rule {
    id     = "raw-infrequent-access"
    status = "Enabled"
    filter {
      prefix = "${var.prefix}/raw/"
    }
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
  }

  # The stages' intermediate files are only needed to retry a stage of a recent run.
  rule {
    id     = "work-expires"
    status = "Enabled"
    filter {
      prefix = "${var.prefix}/_work/"
    }
    expiration {
      days = var.work_expiration_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  # A replaced partition file stays readable for a while, then goes.
  rule {
    id     = "old-partition-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "lake" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.lake.arn, "${aws_s3_bucket.lake.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "lake" {
  bucket     = aws_s3_bucket.lake.id
  policy     = data.aws_iam_policy_document.lake.json
  depends_on = [aws_s3_bucket_public_access_block.lake]
}

resource "aws_glue_catalog_database" "govreports" {
  name        = var.glue_database
  description = "govreports lake: see docs/lake.md"
}

resource "aws_glue_catalog_table" "tables" {
  for_each      = local.tables
  name          = each.key
  database_name = aws_glue_catalog_database.govreports.name
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "EXTERNAL"                   = "TRUE"
    "classification"             = "parquet"
    "projection.enabled"         = "true"
    "projection.province.type"   = "enum"
    "projection.province.values" = join(",", local.provinces)
    "projection.year.type"       = "enum"
    "projection.year.values"     = join(",", local.years)
    "storage.location.template"  = "${local.lake}/${each.key}/province=$${province}/year=$${year}/"
  }

  # year is a string: an integer projection cannot name Hive's null partition.
  partition_keys {
    name = "province"
    type = "string"
  }
  partition_keys {
    name = "year"
    type = "string"
  }

  storage_descriptor {
    location      = "${local.lake}/${each.key}/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }

    dynamic "columns" {
      for_each = each.value
      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }
}

resource "aws_athena_workgroup" "govreports" {
  name = "govreports"
  configuration {
    enforce_workgroup_configuration = true
    result_configuration {
      output_location = "s3://${var.bucket_name}/_athena-results/"
      encryption_configuration {
        encryption_option = var.kms_key_arn == null ? "SSE_S3" : "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}
