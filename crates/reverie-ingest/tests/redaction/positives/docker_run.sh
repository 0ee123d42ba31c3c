#!/usr/bin/env bash
set -euo pipefail
docker login registry.gitlab.com -u gitlab+deploy-token-1184 -p gldt-2RQr7g_7tclnqjavmq7I
docker run --rm -it \
  -e AWS_ACCESS_KEY_ID=AKIAGYN5YURSTAL6AJQS \
  -e AWS_SECRET_ACCESS_KEY=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 \
  -e STRIPE_SECRET_KEY=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 \
  -e NODE_ENV=production \
  -p 8080:8080 \
  registry.gitlab.com/acme/api:1.14.2
