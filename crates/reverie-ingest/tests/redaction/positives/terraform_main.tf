terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.31"
    }
  }
}

provider "aws" {
  region     = "eu-west-1"
  access_key = "AKIAQAN7TOR36ANXZH3C"
  secret_key = "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"
}

provider "github" {
  owner = "acme"
  token = "ghp_dfNXp3ufbrlktoub0tcqmQBjvklaoLtX8AIZ"
}

provider "cloudflare" {
  api_token = var.cloudflare_api_token
}

resource "aws_db_instance" "main" {
  identifier        = "acme-prod"
  engine            = "postgres"
  engine_version    = "16.1"
  instance_class    = "db.t4g.medium"
  username          = "acme_admin"
  password          = "Tkyimva#u4Uo4yVvrCA#"
  allocated_storage = 50
}
