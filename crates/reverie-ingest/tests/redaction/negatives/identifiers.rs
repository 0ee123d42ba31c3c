use reverie_core::auth::token::TokenValidator;
use crate::secrets::credential_vault::{CredentialVault, SecretStoreError};

pub struct ApiKeyRotationScheduler {
    access_token_refresh_interval_seconds: u64,
    password_hashing_parallelism_factor: u32,
}

impl ApiKeyRotationScheduler {
    pub fn get_auth_token_from_secret_store(&self, vault: &CredentialVault) -> Result<String, SecretStoreError> {
        let token = vault.read("api_token")?;
        let api_key = std::env::var("OPENAI_API_KEY").unwrap_or_default();
        let password = rpassword::prompt_password("Password: ")?;
        let secret = secrecy::SecretString::from(password);
        let bearer = format!("Bearer {token}");
        let authorization_header_value = HeaderValue::from_str(&bearer)?;
        Ok(token)
    }
}
// com.example.security.authentication.token.JwtTokenAuthenticationFilter
// org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken
// getAccessTokenSilentlyWithRefreshTokenRotationEnabled, PASSWORD_RESET_TOKEN_EXPIRY_MINUTES
