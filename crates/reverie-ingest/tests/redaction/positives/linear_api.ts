import { LinearClient } from "@linear/sdk";
const client = new LinearClient({ apiKey: process.env.LINEAR_API_KEY });
// curl https://api.linear.app/graphql -H "Authorization: lin_api_PZcIRaHrZNf2nOmogDmqwWlTg6UsQCXe9s3k3g3G" -d '{"query":"{ viewer { id } }"}'
// old personal key, revoked: lin_api_EKDSuY7aI2tfRk7y9C9Yam5ojkdtAjXxfXRWuqdL
export const keys = ["lin_api_MAO6k8Dae4k5BgfYuM3Ouw9PJ3SKi1Nxk59pBZ6V"];
