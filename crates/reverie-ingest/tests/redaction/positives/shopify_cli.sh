$ curl -s https://acme-store.myshopify.com/admin/api/2024-10/shop.json -H "X-Shopify-Access-Token: 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"
{"shop":{"id":548380009,"name":"Acme"}}
$ shopify app env show
    SHOPIFY_API_KEY=8c1f0e2a7b3d4c5e
    shared secret        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
$ node scripts/sync.js 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 acme-store
custom app tokens: ["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", "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"]
