variable "region" {
  type    = string
  default = "us-east-1"
}

variable "env" {
  type        = string
  description = "the environment; terraform.tfvars gives it"
}

variable "legacy_paths" {
  type    = list(string)
  default = ["/legacy/*", "/old/*"]
}
