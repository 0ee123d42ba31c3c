const apiKey = process.env.STRIPE_SECRET_KEY!;
const token: string = await getAccessTokenSilently();
export const config = { secret: process.env.NEXTAUTH_SECRET, password: import.meta.env.VITE_DB_PASSWORD };
const headers = { Authorization: `Bearer ${token}` };
const githubToken = core.getInput('github-token', { required: true });
