variable "region" {
  description = "AWS region of the lake"
  type        = string
  default     = "ap-east-1"
}

variable "bucket_name" {
  description = "The lake's bucket"
  type        = string
}

variable "prefix" {
  description = "The lake's prefix inside the bucket (GOVREPORTS_LAKE = s3://<bucket>/<prefix>)"
  type        = string
  default     = "lake"
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS; null uses SSE-S3 (AES256)"
  type        = string
  default     = null
}

variable "work_expiration_days" {
  description = "Days the stages' intermediate files (_work/) are kept"
  type        = number
  default     = 14
}

variable "noncurrent_version_days" {
  description = "Days a replaced partition file stays readable as a noncurrent version"
  type        = number
  default     = 90
}

variable "last_report_year" {
  description = "Last report year the Athena partition projection enumerates"
  type        = number
  default     = 2030
}

variable "glue_database" {
  description = "Glue database of the Athena tables"
  type        = string
  default     = "govreports"
}
