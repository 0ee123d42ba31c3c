# ~/.bash_history (excerpt)
curl https://api.anthropic.com/v1/messages \
  -H "x-api-key: sk-ant-api03-1CMnj7ZzntZbrOXGWN-WYH4KXXMiKeTKEthCvFhgXQAUFVERRrFDY3EWcRSsI_UQEo87BlY1cUHRxLS2aRJzOkdIAM_aYAA" \
  -H "anthropic-version: 2023-06-01" \
  -H "content-type: application/json" \
  -d '{"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"ping"}]}'
curl -s -H "Authorization: Bearer OHZjpLrGr4Crm1rKlF2Ro022tqOq18BiJnRWWsnwXDQUlQKv" https://api.acme-corp.test/v2/orders?limit=50 | jq .
curl -s -H 'Authorization: Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IjNmOWEyYzFlN2IiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHRwczovL2FjY291bnRzLmdvb2dsZS5jb20iLCJhenAiOiIxMDQ1LWFiYy5hcHBzLmdvb2dsZXVzZXJjb250ZW50LmNvbSIsImF1ZCI6IjEwNDUtYWJjLmFwcHMuZ29vZ2xldXNlcmNvbnRlbnQuY29tIiwic3ViIjoiMTEwMjQ4NDk1OTIxMjM4OTg2NDIwIiwiZW1haWwiOiJkYW5hQGNvcnAudGVzdCIsImVtYWlsX3ZlcmlmaWVkIjp0cnVlLCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6MTc2NzIyOTIwMH0.bb0W5h6GYjCbT7Nw3lczJrpiy_ezeaRh5QUz3TTHz_ypB7gtHvwzy6n8SlGoilp0sI2qLRNrusC9qvEYV1cKGGs7xMwot66yCOKeU4exKLGYs3aa5WmRKdszN5xVVolaAmncx7CT6r1I4jGnzu0t383Fy7fGVlYPIKg8ovEpK5QRKaa52_8hp4_o5EqAV2kRCfPYIawlj_rkCDs423nb2YA1b0wRXjTFiPuZR1GBUDiwbzXZ65Wmaw0Fv7awPX9zK9iqr0qhJsuJo5zfaIyNAInKfKvtRoim-Itx1DYZyx1ca_b904I1_bbGeT21_cl3bBhJe51qvEmMs5Veci0gWR' https://oauth2.googleapis.com/tokeninfo
curl -X POST -H 'Content-type: application/json' --data '{"text":"deploy finished :rocket:"}' https://hooks.slack.com/services/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
curl -u ci-bot:SKoTOYKXVmD4Eh9n -X POST https://jenkins.acme-corp.test/job/web/build
curl "https://maps.googleapis.com/maps/api/geocode/json?address=1600+Amphitheatre+Parkway&key=AIzaSy8qRery-7LRGQYSw8VK4eCFL7caWdHBs-Y"
curl --request POST --header "PRIVATE-TOKEN: glpat-IP7r6iEpDQ9jCMTWwpII" "https://gitlab.com/api/v4/projects/42/pipeline?ref=main"
curl -X POST -F token=glptt-b74778bb5e99017e990ef21345b1a950f684963c -F ref=main https://gitlab.acme-corp.test/api/v4/projects/9/trigger/pipeline
curl https://api.stripe.com/v1/charges -u rk_test_51bQKcbQ0fDWUYj3sXwtmCIaXKsA9u4brE4Ado1CwnRyeWd4eFreg306NtWuUbdABBHkbzI4nv8FJJaZAKrzJi9BNFpBrZR58w3: -d amount=2000 -d currency=eur
http GET https://api.github.com/user "Authorization: token gho_gMUnL01dzlVrTnJrlUQPHJFL8lDtJDdxwVj9"
