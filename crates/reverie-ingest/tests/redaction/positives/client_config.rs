use reqwest::Client;

const OPENAI_API_KEY: &str = "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";
static GITLAB_TOKEN: &str = "glpat-LgNyq6h9I-qMH-LmfRic";

pub async fn me(client: &Client) -> reqwest::Result<String> {
    client
        .get("https://api.acme-corp.test/v1/me")
        .header("Authorization", "Bearer oV215phuYtkc53O4yeKrCRPr.vOIjFV6UYF84hN0dfesUJXNnC9o8Bfo9")
        .send()
        .await?
        .text()
        .await
}

pub fn token_from_env() -> Option<String> {
    std::env::var("API_TOKEN").ok()
}
