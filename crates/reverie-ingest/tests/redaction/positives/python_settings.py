import os

import anthropic
from openai import OpenAI

client = OpenAI(api_key="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")
claude = anthropic.Anthropic(api_key=os.environ["ANTHROPIC_API_KEY"])
admin = anthropic.Anthropic(api_key='sk-ant-admin01-jj4SDy7sOncVdLpotYKcUAtxhQ8TdA6jPWjqAmpUO0XhteWJIrVJ3IX0u8X8kLjB-Hw6pASYHNVdx7HxemawpECdCPvxCAA')  # TODO: move to vault

SLACK_USER_TOKEN = "xoxp-365334240208-659178313193-0874837282046-b9aa414454aaaf148f336d5886a22a63"
SECRET_KEY = 'django-insecure-a^l4pt-akutrrx9j71d9a=h&878t#ehn+3_ualq75cvo^j0_iq'
DEBUG = False
ALLOWED_HOSTS = ["acme-corp.test", "localhost"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "acme",
        "USER": "acme_app",
        "PASSWORD": "TTt98h10Ikx1wo!r8jm",
        "HOST": "db.internal",
        "PORT": 5432,
    }
}

API_KEY = "008575b53ac284ed1180e188064ed1a4"
hf_token = "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"


def fetch(token: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    password = os.getenv("DB_PASSWORD")
    return {"headers": headers, "password": password}
