import os
import getpass

from django.conf import settings

API_KEY = os.environ["OPENAI_API_KEY"]
api_key = os.getenv("ANTHROPIC_API_KEY")
SECRET_KEY = settings.SECRET_KEY
password = getpass.getpass("Password: ")
token = request.headers.get("Authorization", "").removeprefix("Bearer ")
headers = {"Authorization": f"Bearer {token}", "X-Api-Key": api_key}
client_secret: str = Field(..., env="CLIENT_SECRET")
aws_secret_access_key = boto3.Session().get_credentials().secret_key
db_password = vault_client.secrets.kv.read_secret_version(path="db")["data"]["data"]["password"]
max_tokens = 4096
token_count = len(tokenizer.encode(text))
