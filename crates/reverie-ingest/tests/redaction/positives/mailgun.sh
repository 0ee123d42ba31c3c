$ curl -s https://api.mailgun.net/v3/mg.acme.io/messages -F from=ops@acme.io -F to=me@acme.io -F text=hi --user 'api:key-68a97b63ae0f47f724c3a063fadfaf20'
{"id":"<20260501.1@mg.acme.io>","message":"Queued. Thank you."}
$ python send.py key-76e7e2ebf9cf093a5129db04ea98c338 mg.acme.io
mailgun = Mailgun("key-32475a6c5317fa538c57ccfac82636cf")
the old private key key-98c2bcc3e917a122f991668899ecb3c0 was rotated
